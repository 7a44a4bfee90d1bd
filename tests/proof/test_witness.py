"""The witness from outside: a real `accord witness serve` (its storage on SQLite and
PostgreSQL) that an operator's checkpoints reach over HTTP, and the offline verifier's
`--witness-keys` check of the cosignatures a bundle carries.

The witness must cosign only checkpoints signed by the key it pinned for the log, and only
while the log grows as one chain from the last checkpoint it cosigned: a shorter log, another
head at the same size, or new records that do not lead from its stored head are refused.
"""

import hashlib
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from cmp_server.proof.bundle import COSIGNATURES, BundleWriter
from cmp_server.proof.cosign import LINK_FIELDS, cosign, cosignature_problem
from cmp_server.proof.keys import PublicKeys
from tests.conftest import _postgres_database
from tests.proof.chains import checkpoint, keys_json, make_chain, make_record, new_signer
from tests.proof.test_bundle import REVISION_JSON, SITE
from tests.proof.test_bundle import records as records  # noqa: F401 - the fixture
from tests.proof.witness_process import Witness


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def witness(request, tmp_path_factory):
    """One witness per storage backend for the module: each test brings a log of its own
    (`site`), one the witness has never seen, so a witness started per test (a process, and
    a database on PostgreSQL) would hold nothing more."""
    url, drop = None, None
    if request.param == "postgresql":
        url, drop = _postgres_database()
        if url is None:
            pytest.skip(drop)
    running = Witness(tmp_path_factory.mktemp(f"witness-{request.param}"), url).start()
    yield running
    running.stop()
    if drop:
        drop()


@pytest.fixture
def site():
    """The key of the test's own log: new to the module's witness."""
    return f"{SITE}-{uuid.uuid4().hex[:12]}"


def links(records, after, through):
    return [{f: r[f] for f in LINK_FIELDS} for r in records[after:through]]


def submit(witness, signer, records, size, after=None):
    site = records[0]["site_key"]  # the test's own log
    body = {"checkpoint": checkpoint(site, records, signer, size=size)}
    body["keys"] = keys_json(signer)["keys"]
    if after is not None:
        body["from_size"] = after
        body["links"] = links(records, after, size)
    return requests.post(witness.url + "/v1/checkpoints", json=body, timeout=10)


def test_first_contact_pins_the_key_and_cosigns(witness, site):
    signer, chain = new_signer(), make_chain(6, site)
    answer = submit(witness, signer, chain, 4)
    assert answer.status_code == 200, answer.text
    cosignature = answer.json()["cosignature"]
    witness_keys = PublicKeys.from_documents(witness.keys()["keys"])
    assert cosignature_problem(cosignature, witness_keys) is None
    assert cosignature["checkpoint"]["size"] == 4
    latest = requests.get(f"{witness.url}/v1/logs/{site}/latest", timeout=10).json()
    assert latest["cosignature"] == cosignature


def test_a_log_that_grew_as_one_chain_is_cosigned_again(witness, site):
    signer, chain = new_signer(), make_chain(9, site)
    assert submit(witness, signer, chain, 4).status_code == 200
    answer = submit(witness, signer, chain, 9, after=4)
    assert answer.status_code == 200, answer.text
    assert answer.json()["cosignature"]["checkpoint"]["size"] == 9


def test_a_shrinking_log_is_refused(witness, site):
    signer, chain = new_signer(), make_chain(8, site)
    assert submit(witness, signer, chain, 8).status_code == 200
    answer = submit(witness, signer, chain, 5)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "log_shrank"
    latest = requests.get(f"{witness.url}/v1/logs/{site}/latest", timeout=10).json()
    assert latest["checkpoint"]["size"] == 8


def forked(chain, at):
    """The chain with record `at` rewritten and every hash after it recomputed."""
    prev = chain[at - 2]["record_hash"] if at > 1 else "0" * 64
    out = chain[: at - 1]
    for r in chain[at - 1 :]:
        changes = {"action": "accept_all"} if r["position"] == at else {}
        record = make_record(r["site_key"], r["position"], prev, **changes)
        out.append(record)
        prev = record["record_hash"]
    return out


def test_a_forked_log_is_refused_at_the_same_size_and_when_it_grows(witness, site):
    signer, chain = new_signer(), make_chain(10, site)
    assert submit(witness, signer, chain, 6).status_code == 200
    rewritten = forked(chain, 4)
    same_size = submit(witness, signer, rewritten, 6)
    assert same_size.status_code == 409
    assert same_size.json()["error"]["code"] == "log_forked"
    # The rewritten log, grown past the cosigned size: its links cannot lead from the old head.
    grown = submit(witness, signer, rewritten, 10, after=6)
    assert grown.status_code == 409
    assert grown.json()["error"]["code"] == "log_forked"


def test_a_checkpoint_not_signed_by_the_pinned_key_is_refused(witness, site):
    signer, chain = new_signer(), make_chain(6, site)
    assert submit(witness, signer, chain, 3).status_code == 200
    intruder = new_signer()  # brings its own keys: pinned ones stay
    answer = submit(witness, intruder, chain, 6, after=3)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "unknown_key"
    body = {"checkpoint": {**checkpoint(site, chain, signer, size=6), "size": 5}}
    body.update(from_size=3, links=links(chain, 3, 5))
    tampered = requests.post(witness.url + "/v1/checkpoints", json=body, timeout=10)
    assert tampered.status_code == 403
    assert tampered.json()["error"]["code"] == "bad_signature"


def test_a_log_pinned_ahead_refuses_another_key_on_first_contact(witness, site):
    operator, chain = new_signer(), make_chain(3, site)
    keys = witness.folder / "operator-keys.json"
    keys.write_text(json.dumps(keys_json(operator)))
    witness.accord("pin", "--site", site, "--keys", keys)
    answer = submit(witness, new_signer(), chain, 3)
    assert answer.status_code == 403
    assert submit(witness, operator, chain, 3).status_code == 200


def test_a_malformed_body_is_a_json_error(witness):
    answer = requests.post(witness.url + "/v1/checkpoints", data="nope", timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_body"


# --- accord-verify --witness-keys ----------------------------------------------------------


def verify(bundle, tmp_path, *args):
    path = tmp_path / "proof.zip"
    path.write_bytes(bundle)
    return subprocess.run(
        [str(Path(sys.executable).parent / "accord-verify"), str(path), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def cosigned_bundle(records, operator, cosignature):
    """A whole-log bundle signed by `operator` whose checkpoint carries cosignature(cp)."""
    cp = checkpoint(SITE, records, operator, size=records[-1]["position"])
    buffer = io.BytesIO()
    writer = BundleWriter(buffer)
    writer.write_lines("records.ndjson", (json.dumps(r) + "\n" for r in records))
    config_hash = hashlib.sha256(REVISION_JSON.encode()).hexdigest()
    writer.write_json(
        "revisions.json",
        [{"revision": 1, "config_hash": config_hash, "canonical_json": REVISION_JSON}],
    )
    writer.write_json("checkpoints.json", [cp])
    writer.write_json("keys.json", keys_json(operator))
    writer.write_json(COSIGNATURES, [cosignature(cp)])
    span = {"first_position": 1, "last_position": len(records), "start_hash": "0" * 64}
    writer.close({"site_key": SITE, "records": {"count": len(records), **span}}, operator)
    return buffer.getvalue()


def key_file(tmp_path, name, *signers):
    path = tmp_path / name
    path.write_text(json.dumps(keys_json(*signers)))
    return path


def test_accord_verify_checks_cosignatures_against_the_witness_keys(records, tmp_path):  # noqa: F811
    operator, witness, forger = new_signer(), new_signer(), new_signer()
    trusted = key_file(tmp_path, "keys.json", operator)
    witness_keys = key_file(tmp_path, "witness.json", witness)
    genuine = cosigned_bundle(records, operator, lambda cp: cosign(cp, "2026-12-05T00Z", witness))
    ok = verify(genuine, tmp_path, "--trusted-keys", trusted, "--witness-keys", witness_keys)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"Witness {witness.key_id}" in ok.stdout

    # The operator, who can re-sign the bundle, forges the witness's cosignature.
    def forge(cp):
        return {**cosign(cp, "2026-12-05T00Z", forger), "witness_key_id": witness.key_id}

    forged = cosigned_bundle(records, operator, forge)
    bad = verify(forged, tmp_path, "--trusted-keys", trusted, "--witness-keys", witness_keys)
    assert bad.returncode == 1
    assert f"witness {witness.key_id}" in bad.stderr and "bad signature" in bad.stderr
    # A cosignature by a witness the auditor does not know counts for nothing.
    other = verify(
        genuine,
        tmp_path,
        "--trusted-keys",
        trusted,
        "--witness-keys",
        key_file(tmp_path, "other.json", forger),
    )
    assert other.returncode == 1
    assert "no cosignature by any of the given witness keys" in other.stderr


def test_accord_witnesses_must_be_http_urls(tmp_path):
    from config import Config, ConfigError

    env = {"ACCORD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32}
    urls = " https://w1.example/ , http://127.0.0.1:8800,"
    settings = Config.from_env({**env, "ACCORD_WITNESSES": urls}, create_instance=False)
    assert settings["ACCORD_WITNESSES"] == ["https://w1.example", "http://127.0.0.1:8800"]
    for bad in ("ftp://w.example", "w.example", "http://w.example:99999"):
        with pytest.raises(ConfigError, match="ACCORD_WITNESSES"):
            Config.from_env({**env, "ACCORD_WITNESSES": bad}, create_instance=False)
