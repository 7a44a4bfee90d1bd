"""Many threads posting consents through the real GroupCommitter of two app instances (two
processes or hosts sharing the database) on each database: the chain never forks, has no gap,
and every receipt is signed and names its record."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, LogHead
from cmp_server.services import signing_keys, verification
from tests.conftest import make_app
from tests.fixtures.factories import consent_body

THREADS, EACH = 12, 20


@pytest.fixture
def app_config():
    return {"ACCORD_GROUP_COMMIT": True}


def test_concurrent_writers_never_fork_the_chain(app, make_site, backend, database_urls, tmp_path):
    site = make_site()
    other = make_app(database_urls[backend], tmp_path / "other", ACCORD_GROUP_COMMIT=True)
    apps = [app, other]

    def post_many(worker):
        client = apps[worker % 2].test_client()
        receipts = []
        for i in range(EACH):
            action = ("accept_all", "reject_all", "custom")[(worker + i) % 3]
            answer = client.post(
                f"/api/v1/sites/{site.site_key}/consents", json=consent_body(action)
            )
            assert answer.status_code == 201, answer.json
            receipts.append(answer.json)
        return receipts

    with ThreadPoolExecutor(THREADS) as pool:
        receipts = [r for batch in pool.map(post_many, range(THREADS)) for r in batch]
    with other.app_context():
        db.engine.dispose()

    total = THREADS * EACH
    db.session.rollback()
    positions = db.session.scalars(
        select(ConsentRecord.position).where(ConsentRecord.site_id == site.id)
    ).all()
    assert sorted(positions) == list(range(1, total + 1))  # no gap, no duplicate
    assert sorted(r["position"] for r in receipts) == list(range(1, total + 1))
    assert db.session.get(LogHead, site.id).size == total
    result = verification.verify_site_log(site)
    assert result.ok, result
    keys = signing_keys.public_keys()
    from cmp_server.proof.receipts import receipt_problem

    assert all(receipt_problem(r, keys) is None for r in receipts)
    hashes = dict(
        db.session.execute(
            select(ConsentRecord.position, ConsentRecord.record_hash).where(
                ConsentRecord.site_id == site.id
            )
        ).all()
    )
    assert all(hashes[r["position"]] == r["hash"] for r in receipts)
