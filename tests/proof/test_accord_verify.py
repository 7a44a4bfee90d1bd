"""`accord-verify` as an auditor runs it, on bundles exported by a real server.

The auditor has Python and the verifier, not the app: no Flask, no database, no settings, and
the verifier must write nothing on their machine. They trust a bundle only when it is signed
by a key they pinned (the site's /.well-known/accord-keys.json saved earlier): a bundle that
someone edited, truncated or renumbered and then re-signed with their own key is intact as a
file, so without pinned keys it must say the signer is not established (exit 2), and with
them it must fail (exit 1). Bundles come from `accord proofs export` on a live server (SQLite
and PostgreSQL); the forger rebuilds them with the project's own public code. What depends on
no database, offline (how the commands run: from an empty folder, whatever the operator's
settings; a forger's bundle; a wrong key file), runs on the SQLite server's bundle only
(`sqlite_only`).
"""

import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cmp_server.proof.bundle import MANIFEST, SIGNATURE, BundleWriter
from cmp_server.proof.checkpoints import sign_checkpoint
from cmp_server.proof.log import GENESIS_HASH, PUBLIC_FIELDS, record_hash
from cmp_server.services.demo import demo_site_config
from config import normalise_database_url
from tests.proof.chains import keys_json, line_of, new_signer, records_of

ORIGIN = "https://shop.example"
BIN = Path(sys.executable).parent
CONSENTS = 6
# Run the installed `accord-verify` entry point where flask, sqlalchemy and werkzeug cannot
# be imported at all (as on an auditor's machine that never installed them).
WITHOUT_THE_APP = """
import sys
from importlib.metadata import entry_points

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "sqlalchemy", "werkzeug"):
            raise ModuleNotFoundError(f"No module named {name!r} (not on this machine)")

sys.meta_path.insert(0, NotInstalled())
(script,) = entry_points(group="console_scripts", name="accord-verify")
sys.argv[0] = "accord-verify"
script.load()()
"""


def publish_site(server, name: str) -> str:
    path = server.workdir / f"{name}.json"
    path.write_text(json.dumps({**demo_site_config([ORIGIN]), "name": name}))
    out = server.accord("site", "import", path, "--publish", "--json").stdout
    return json.loads(out)["site_key"]


def post_consents(server, site_key: str, n: int) -> None:
    config = server.get(f"/api/v1/sites/{site_key}/config").json()
    for i in range(n):
        action = "accept_all" if i % 2 else "reject_all"
        body = {
            "consent_id": str(uuid.uuid4()),
            "device_id": str(uuid.uuid4()),
            "revision": config["revision"],
            "action": action,
            "choices": {
                c["key"]: c["required"] or action == "accept_all"
                for c in config["config"]["categories"]
            },
            "language": "en",
            "page_url": ORIGIN + "/cart",
            "device_secret": uuid.uuid4().hex * 2,
        }
        answer = server.post(
            f"/api/v1/sites/{site_key}/consents", json=body, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="module")
def exported(live_server):
    """A site with CONSENTS consents, its bundle and the keys an auditor pinned earlier."""
    site_key = publish_site(live_server, "Verified shop")
    post_consents(live_server, site_key, CONSENTS)
    folder = live_server.workdir / "auditor"
    folder.mkdir()
    bundle = folder / "proof.zip"
    live_server.accord("proofs", "export", "--site", site_key, "-o", bundle)
    keys = folder / "accord-keys.json"
    keys.write_bytes(live_server.get("/.well-known/accord-keys.json").content)
    return site_key, bundle, keys


def accord_verify(*args, cwd) -> subprocess.CompletedProcess:
    """The installed verifier, flask/sqlalchemy/werkzeug unimportable, empty environment."""
    return subprocess.run(
        [sys.executable, "-I", "-c", WITHOUT_THE_APP, *map(str, args)],
        env={},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def says_ok(out: str) -> bool:
    """Whether the verdict is OK: a line that starts with it. (Not "OK" anywhere: a random
    site key may hold those two letters.)"""
    return any(line.startswith("OK") for line in out.splitlines())


def test_accord_verify_needs_neither_flask_nor_a_database_and_writes_nothing(exported, tmp_path):
    site_key, bundle, keys = exported
    empty = tmp_path / "empty"
    empty.mkdir()
    before = sorted(p.name for p in bundle.parent.iterdir())
    result = accord_verify(bundle, "--trusted-keys", keys, cwd=empty)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: bundle of site {site_key} intact and signed by the pinned key" in result.stdout
    assert says_ok(result.stdout)
    assert list(empty.iterdir()) == []
    assert sorted(p.name for p in bundle.parent.iterdir()) == before


@pytest.mark.sqlite_only  # the command, offline
def test_the_console_script_runs_from_an_empty_folder_with_no_environment(exported, tmp_path):
    _, bundle, keys = exported
    result = subprocess.run(
        [str(BIN / "accord-verify"), str(bundle), "--trusted-keys", str(keys)],
        env={},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.sqlite_only  # the command's settings, offline
def test_accord_proofs_verify_bundle_ignores_the_operators_settings(exported, tmp_path):
    """`accord proofs verify-bundle` runs the same verifier: a foreign DATABASE_URL, or no
    settings at all, neither stops it nor makes it write ./instance/secret_key."""
    _, bundle, keys = exported
    for env in ({"DATABASE_URL": "mysql://auditor@elsewhere/db"}, {}):
        result = subprocess.run(
            [str(BIN / "accord"), "proofs", "verify-bundle", str(bundle), "--trusted-keys", keys],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert list(tmp_path.iterdir()) == []


def test_a_pinned_genuine_bundle_says_what_was_verified(exported, tmp_path):
    site_key, bundle, keys = exported
    result = accord_verify(bundle, "--trusted-keys", keys, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Site:                {site_key}" in out
    assert "Exported at:" in out
    assert f"Log size at export:  {CONSENTS} records" in out
    assert f"Records:             {CONSENTS} checked, positions 1-{CONSENTS}" in out
    assert "Checkpoints:" in out and f"the largest at size {CONSENTS}" in out


def test_an_unpinned_genuine_bundle_exits_2_with_fingerprints_and_how_to_pin(exported, tmp_path):
    _, bundle, keys = exported
    result = accord_verify(bundle, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SIGNER NOT ESTABLISHED" in result.stdout
    assert not says_ok(result.stdout)
    key = json.loads(keys.read_text())["keys"][0]
    assert f"Key {key['key_id']}:  signed the manifest, SHA-256 fingerprint" in result.stdout
    assert "--trusted-keys accord-keys.json" in result.stdout


def test_the_until_range_is_shown(live_server, exported, tmp_path):
    site_key, _, keys = exported
    bundle = tmp_path / "until.zip"
    live_server.accord(
        "proofs", "export", "--site", site_key, "--until", "2099-01-01", "-o", bundle
    )
    result = accord_verify(bundle, "--trusted-keys", keys, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Range asked:         from the start until 2099-01-01T00:00:00.000000Z" in result.stdout


# --- a forger's copy of the bundle -------------------------------------------------------------


def rehash(records: list[dict]) -> list[dict]:
    """The chain recomputed over edited records, as anyone with the public code can."""
    prev = GENESIS_HASH
    for record in records:
        record["prev_hash"] = prev
        public = {f: record[f] for f in PUBLIC_FIELDS}
        record["record_hash"] = prev = record_hash(public, record["personal_digest"], prev)
    return records


def re_signed(data: bytes, change) -> bytes:
    """The bundle rebuilt around `change(records)` and signed by the forger's own key: a new
    chain, new checkpoints, keys.json and manifest, all consistent."""
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read(MANIFEST))
    records = records_of(source.read("records.tsv"))
    records = rehash(change(records))
    forger = new_signer()
    site_key, size = manifest["site_key"], len(records)
    out = io.BytesIO()
    writer = BundleWriter(out)
    writer.write_lines("records.tsv", (line_of(r) for r in records))
    writer.write_json("revisions.json", json.loads(source.read("revisions.json")))
    head = records[-1]["record_hash"]
    checkpoint = sign_checkpoint(site_key, size, head, manifest["created_at"], forger)
    writer.write_json("checkpoints.json", [checkpoint])
    writer.write_json("keys.json", keys_json(forger))
    for name in set(source.namelist()) - set(writer.members) - {MANIFEST, SIGNATURE}:
        writer.write_lines(name, [source.read(name).decode()])
    skip = {"members", "format", "bundle_version"}
    kept = {k: v for k, v in manifest.items() if k not in skip}
    span = {"count": size, "first_position": 1, "last_position": size, "start_hash": GENESIS_HASH}
    writer.close({**kept, "log_size": size, "records": span}, forger)
    return out.getvalue()


def edit_a_record(records):
    records[1]["action"] = "accept_all" if records[1]["action"] != "accept_all" else "reject_all"
    return records


def truncate(records):
    return records[:-2]


def renumber(records):
    """Drop the first two records and renumber the rest from 1, hiding that they existed."""
    kept = records[2:]
    for position, record in enumerate(kept, 1):
        record["position"] = position
    return kept


FORGERIES = [edit_a_record, truncate, renumber]


@pytest.mark.sqlite_only  # a forger's bundle, offline
@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
def test_a_re_signed_bundle_is_not_ok_without_pinned_keys(exported, tmp_path, forge):
    _, bundle, _ = exported
    forged = tmp_path / "forged.zip"
    forged.write_bytes(re_signed(bundle.read_bytes(), forge))
    result = accord_verify(forged, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SIGNER NOT ESTABLISHED" in result.stdout
    assert not says_ok(result.stdout)


@pytest.mark.sqlite_only  # a forger's bundle, offline
@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
def test_a_re_signed_bundle_fails_against_the_pinned_keys(exported, tmp_path, forge):
    _, bundle, keys = exported
    forged = tmp_path / "forged.zip"
    forged.write_bytes(re_signed(bundle.read_bytes(), forge))
    result = accord_verify(forged, "--trusted-keys", keys, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: manifest signature: signed by key" in result.stderr
    assert "which is not a trusted key" in result.stderr


def test_a_record_changed_in_the_database_is_named_by_position(live_server, exported, tmp_path):
    """The operator edits a record with SQL, then exports: the bundle is signed by the real
    key, and the verifier names the record."""
    _, _, keys = exported
    site_key = publish_site(live_server, "Edited shop")
    post_consents(live_server, site_key, 4)
    engine = create_engine(normalise_database_url(live_server.env["DATABASE_URL"]))
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE consent_records SET gpc = NOT gpc WHERE position = 3 AND site_id = "
                "(SELECT id FROM sites WHERE site_key = :key)"
            ),
            {"key": site_key},
        )
    engine.dispose()
    bundle = tmp_path / "edited.zip"
    live_server.accord("proofs", "export", "--site", site_key, "-o", bundle)
    result = accord_verify(bundle, "--trusted-keys", keys, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "FAILED: record at position 3: contents do not match the record hash" in result.stderr
    assert "Site:" in result.stdout


@pytest.mark.sqlite_only  # a wrong key file, offline
def test_a_key_file_that_is_not_accord_keys_json_is_refused(exported, tmp_path):
    _, bundle, _ = exported
    wrong = tmp_path / "keys.json"
    wrong.write_text('{"not": "keys"}')
    result = accord_verify(bundle, "--trusted-keys", wrong, cwd=tmp_path)
    assert result.returncode == 1
    assert "not an accord-keys.json" in result.stderr


def test_a_record_edited_in_the_bundle_is_named_by_position(exported, tmp_path):
    """Edited after signing and not re-signed: the manifest catches the file, and the chain
    check still runs to tell the auditor which record was changed."""
    _, bundle, keys = exported
    source = zipfile.ZipFile(bundle)
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "records.tsv":
                lines = content.splitlines(keepends=True)
                gpc = b'"gpc":true' if b'"gpc":false' in lines[1] else b'"gpc":false'
                lines[1] = re.sub(rb'"gpc":(true|false)', gpc, lines[1])
                content = b"".join(lines)
            target.writestr(name, content)
    result = accord_verify(edited, "--trusted-keys", keys, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: records.tsv: SHA-256 or size differs from the manifest" in result.stderr
    assert "also: record at position 2: contents do not match the record hash" in result.stderr
