"""A deleted prefix is not a purge: someone with database access deletes the first records of
a log up to a signed checkpoint and moves nothing else. `accord proofs verify` must fail, and
the public receipt check must not call a deleted record "removed by the retention purge"
(a real purge, with its signed statement, is covered in tests/services/test_retention.py).
On a real server, SQLite and PostgreSQL."""

import json
import uuid

from sqlalchemy import create_engine, text

from config import normalise_database_url
from tests.proof.test_accord_verify import ORIGIN, publish_site

CONSENTS = 5


def consent(server, site_key: str) -> dict:
    """One decision through the API; returns its receipt."""
    config = server.get(f"/api/v1/sites/{site_key}/config").json()
    body = {
        "consent_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "revision": config["revision"],
        "action": "reject_all",
        "choices": {c["key"]: c["required"] for c in config["config"]["categories"]},
        "language": "en",
        "page_url": ORIGIN + "/",
        "device_secret": uuid.uuid4().hex * 2,
    }
    answer = server.post(
        f"/api/v1/sites/{site_key}/consents", json=body, headers={"Origin": ORIGIN}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def sql(server, statement: str, **params) -> None:
    engine = create_engine(normalise_database_url(server.env["DATABASE_URL"]))
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def test_a_prefix_deleted_up_to_a_checkpoint_is_not_a_purge(live_server):
    site_key = publish_site(live_server, "Truncated shop")
    receipts = [consent(live_server, site_key) for _ in range(3)]
    live_server.accord("proofs", "checkpoint", "--site", site_key)  # a checkpoint at size 3
    receipts += [consent(live_server, site_key) for _ in range(CONSENTS - 3)]
    before = live_server.accord("proofs", "verify", "--site", site_key)
    assert f"OK: {CONSENTS} records" in before.stdout
    # The database alone cannot reveal a cut or rewritten tail: the command says so.
    assert "Not detectable from this database alone: records removed from the end" in before.stdout
    assert "after the last signed checkpoint (size 3," in before.stdout
    sql(
        live_server,
        "DELETE FROM consent_records WHERE position <= 3 AND site_id = "
        "(SELECT id FROM sites WHERE site_key = :key)",
        key=site_key,
    )
    live_server.accord("proofs", "checkpoint", "--site", site_key)  # and one at size 5
    result = live_server.accord("proofs", "verify", "--site", site_key, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "record at position 1: missing (deleted?)" in result.stderr
    assert "records 1-3 are gone and no signed purge covers them" in result.stderr
    answer = live_server.post("/api/v1/receipts/verify", json=receipts[1])
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["record"] == "not_in_log" and not verdict["valid"], json.dumps(verdict)
    assert "purge" not in verdict["message"]
