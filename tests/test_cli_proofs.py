"""The proof commands through the CLI runner, and `verify-bundle` as an auditor runs it: a
separate process with no database reachable."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from cmp_server.extensions import db
from tests.fixtures.factories import consent_body

ROOT = Path(__file__).resolve().parent.parent


def post_many(client, site, n):
    for _ in range(n):
        answer = client.post(f"/api/v1/sites/{site.site_key}/consents", json=consent_body())
        assert answer.status_code == 201


def test_verify_passes_then_names_the_tampered_record(client, runner, make_site):
    site = make_site()
    post_many(client, site, 4)
    result = runner.invoke(args=["proofs", "verify", "--site", site.site_key])
    assert result.exit_code == 0, result.output
    assert "OK: 4 records" in result.output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consent_records SET gpc = NOT gpc WHERE position = 3"))
    result = runner.invoke(args=["proofs", "verify", "--site", site.site_key])
    assert result.exit_code == 1
    assert "record at position 3" in result.output


def test_export_every_format_and_verify_the_bundle(client, runner, make_site, tmp_path):
    site = make_site()
    post_many(client, site, 3)
    for fmt in ("csv", "ndjson", "bundle"):
        out = tmp_path / f"export.{fmt}"
        result = runner.invoke(
            args=["proofs", "export", "--site", site.site_key, "--format", fmt, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert "Wrote 3 records" in result.output
    assert len((tmp_path / "export.ndjson").read_text().splitlines()) == 3
    assert len((tmp_path / "export.csv").read_text().splitlines()) == 4
    result = runner.invoke(args=["proofs", "verify-bundle", str(tmp_path / "export.bundle")])
    assert result.exit_code == 2, result.output  # intact, but no key pinned
    keys = runner.invoke(args=["keys", "list", "--json"]).output
    (tmp_path / "keys.json").write_text(keys)
    result = runner.invoke(
        args=[
            "proofs",
            "verify-bundle",
            str(tmp_path / "export.bundle"),
            "--trusted-keys",
            str(tmp_path / "keys.json"),
        ]
    )
    assert result.exit_code == 0, result.output


def test_export_of_an_unknown_site_says_so(runner, tmp_path):
    result = runner.invoke(
        args=["proofs", "export", "--site", "nope", "--format", "csv", "-o", str(tmp_path / "x")]
    )
    assert result.exit_code == 1 and "nope" in result.output


def test_checkpoint_keys_and_purge_commands(client, runner, make_site):
    site = make_site()
    post_many(client, site, 2)
    result = runner.invoke(args=["proofs", "checkpoint"])
    assert result.exit_code == 0 and f"{site.site_key}: size 2" in result.output
    result = runner.invoke(args=["proofs", "checkpoint", "--if-older-than", "60"])
    assert "has not moved" in result.output
    listed = runner.invoke(args=["keys", "list"]).output
    assert "signing" in listed
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and "New signing key" in rotated.output
    assert "retired" in runner.invoke(args=["keys", "list"]).output
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0 and "would remove 0 records" in result.output
    result = runner.invoke(args=["purge", "--site", site.site_key])
    assert "removed 0 records" in result.output
    assert runner.invoke(args=["proofs", "verify", "--site", site.site_key]).exit_code == 0


def test_verify_bundle_runs_offline_in_its_own_process(client, runner, make_site, tmp_path):
    site = make_site()
    post_many(client, site, 2)
    bundle = tmp_path / "proof.zip"
    runner.invoke(args=["proofs", "export", "--site", site.site_key, "-o", str(bundle)])
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # nothing listens there
        "ACCORD_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "an-auditor-has-no-secret-key",
    }
    accord = [sys.executable, "-c", "from cmp_server.cli import main; main()"]
    keys = tmp_path / "keys.json"
    keys.write_text(runner.invoke(args=["keys", "list", "--json"]).output)
    ok = subprocess.run(
        [*accord, "proofs", "verify-bundle", str(bundle), "--trusted-keys", str(keys)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert f"OK: bundle of site {site.site_key} intact" in ok.stdout
    broken = tmp_path / "broken.zip"
    data = bundle.read_bytes()
    broken.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    bad = subprocess.run(
        [*accord, "proofs", "verify-bundle", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "FAILED" in bad.stderr
