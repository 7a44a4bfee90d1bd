"""Two app hosts on one PostgreSQL: what a scaled-out installation does (README, deployment).

Two independent gunicorn servers (two workers each, separate instance folders, the same
SECRET_KEY and DATABASE_URL, as two hosts behind a load balancer) take consents for one site
at the same time. Their receipts interleave in one log, which `accord proofs verify` checks
whole, and every acknowledged consent is in it exactly once, at the position its receipt
names, with no gap and no fork.
"""

import json
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cmp_server.services.demo import demo_site_config
from tests.live.conftest import LiveServer, live_database

ORIGIN = "https://shop.example"
PER_HOST = 60
RETRIES = 20


@pytest.fixture
def two_hosts(tmp_path, live_databases):
    url, drop = live_database("postgresql", tmp_path, live_databases)
    shared = {"SECRET_KEY": "two-hosts-" + secrets.token_hex(8), "ACCORD_RATELIMIT_ENABLED": "0"}
    hosts = []
    for name in ("host-a", "host-b"):
        workdir = tmp_path / name
        workdir.mkdir()
        hosts.append(LiveServer(workdir, url, shared))
    try:
        yield [host.start() for host in hosts]
    finally:
        for host in hosts:
            host.stop()
        drop()


def consent(site_key: str) -> dict:
    return {
        "consent_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "revision": 1,
        "action": "accept_all",
        "choices": {"necessary": True, "analytics": True, "marketing": True},
        "language": "en",
        "page_url": ORIGIN + "/",
        "device_secret": secrets.token_urlsafe(24),
    }


def test_two_hosts_append_to_one_log_that_verifies(two_hosts):
    host_a, host_b = two_hosts
    path = host_a.workdir / "site.json"
    path.write_text(json.dumps(demo_site_config([ORIGIN])))
    out = host_a.accord("site", "import", path, "--publish", "--json").stdout
    site_key = json.loads(out)["site_key"]
    bodies = [(host, consent(site_key)) for _ in range(PER_HOST) for host in two_hosts]

    def send(item):
        """Post until acknowledged, as the snippet does: a 503 (a busy machine) is retried
        with the same body, and the retry is a replay if the first one was stored after all."""
        host, body = item
        for _ in range(RETRIES):
            answer = host.post(f"/api/v1/sites/{site_key}/consents", json=body)
            if answer.status_code != 503:
                break
            time.sleep(0.2)
        return body["consent_id"], answer

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(send, bodies))
    assert [a.status_code for _, a in answers] == [201] * len(bodies)
    positions = sorted(a.json()["position"] for _, a in answers)
    assert positions == list(range(1, len(bodies) + 1)), "a gap or a position given twice"

    # Every acknowledged consent is stored once, where its receipt says: read on host B.
    exported = host_b.workdir / "records.ndjson"
    host_b.accord("proofs", "export", "--site", site_key, "--format", "ndjson", "-o", exported)
    records = [json.loads(line) for line in exported.read_text().splitlines() if line.strip()]
    records = [r for r in records if r.get("consent_id")]
    stored = {}
    for record in records:
        assert record["consent_id"] not in stored, "a consent stored twice"
        stored[record["consent_id"]] = record
    assert len(stored) == len(bodies)
    for consent_id, answer in answers:
        assert stored[consent_id]["position"] == answer.json()["position"]
        assert stored[consent_id]["record_hash"] == answer.json()["hash"]
    verified = host_b.accord("proofs", "verify", "--site", site_key)
    assert verified.returncode == 0
