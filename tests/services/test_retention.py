"""Erasure and retention keep the log verifiable: an erasure clears a device's personal data,
keeps the tallies, and is itself an entry of the log; the purge removes an expired prefix,
anchored by a signed purge statement that nothing else can stand in for; a legal hold stops
it."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cmp_server.extensions import db
from cmp_server.models import Checkpoint, ConsentRecord, ConsentTally, PurgeStatement, Site
from cmp_server.models.types import utcnow
from cmp_server.proof.verify import verify_bundle
from cmp_server.services import bundles, checkpoints, retention, signing_keys, verification
from tests.fixtures.factories import consent_body, device_headers


def post(client, site, **overrides):
    response = client.post(
        f"/api/v1/sites/{site.site_key}/consents", json=consent_body(**overrides)
    )
    assert response.status_code == 201, response.json
    return response.json


def tallies(site):
    return dict(
        db.session.execute(
            select(ConsentTally.dimension + ":" + ConsentTally.value, ConsentTally.count).where(
                ConsentTally.site_id == site.id
            )
        ).all()
    )


def test_erasure_keeps_the_log_verifiable_and_is_logged(client, make_site):
    site = make_site()
    device = consent_body()["device_id"]
    post(client, site)
    receipt = post(client, site, device_id=device)
    post(client, site, device_id=device, action="accept_all")
    post(client, site)
    before = tallies(site)

    answer = client.delete(
        f"/api/v1/sites/{site.site_key}/devices/{device}/consents", headers=device_headers(device)
    )
    assert answer.status_code == 200 and answer.json["erased"] == 2
    db.session.rollback()

    history = client.get(f"/api/v1/sites/{site.site_key}/devices/{device}/consents")
    assert history.json["consents"] == []
    assert tallies(site) == before
    entry = db.session.scalar(select(ConsentRecord).where(ConsentRecord.entry_type == "erasure"))
    assert entry.position == 5 and entry.choices == {"2": True, "3": True}
    assert entry.device_id is None and entry.consent_id is None
    erased = db.session.scalar(select(ConsentRecord).where(ConsentRecord.position == 2))
    assert erased.salt is None and erased.erased_at is not None and erased.country is None
    assert verification.verify_site_log(site).ok
    verdict = client.post("/api/v1/receipts/verify", json=receipt).json
    assert (verdict["valid"], verdict["record"]) == (True, "erased")


def test_erasing_an_unknown_device_changes_nothing(client, make_site):
    site = make_site()
    post(client, site)
    answer = client.delete(
        f"/api/v1/sites/{site.site_key}/devices/{consent_body()['device_id']}/consents"
    )
    assert answer.json["erased"] == 0
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1


def seal_in_past(app, site, count, days_ago):
    from cmp_server.services.consents import prepare_consent
    from cmp_server.services.lookup import site_state
    from cmp_server.services.sealing import seal_batch
    from cmp_server.visitor import VisitorContext

    state = site_state(site.site_key)
    visitor = VisitorContext("FR", "Firefox", "Linux", "desktop", "192.0.2.0/24", False)
    now = utcnow() - timedelta(days=days_ago)
    pendings = []
    for _ in range(count):
        body = consent_body("reject_all")
        body["client_ts"] = None
        pendings.append(prepare_consent(state, body, visitor, now=now))
    with db.engine.begin() as conn:
        return [receipt for _, receipt in seal_batch(conn, pendings, checkpoints.current_signer())]


def test_purge_removes_the_expired_prefix_and_the_rest_verifies(app, client, make_site, tmp_path):
    site = make_site()
    site.retention_days = 365
    db.session.commit()
    old = seal_in_past(app, site, 4, days_ago=800)
    seal_in_past(app, site, 2, days_ago=10)
    before = tallies(site)

    [dry] = retention.purge(site.site_key, dry_run=True)
    assert (dry.deleted, dry.through_position) == (4, 4)
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 6

    [outcome] = retention.purge(site.site_key)
    assert (outcome.deleted, outcome.through_position) == (4, 4)
    positions = db.session.scalars(select(ConsentRecord.position).order_by("position")).all()
    assert positions == [5, 6, 7]  # 7: the purge entry
    assert db.session.scalar(select(Checkpoint.reason).where(Checkpoint.size == 4)) == "purge"
    assert tallies(site) == before
    result = verification.verify_site_log(site)
    assert result.ok, result
    assert result.first_position == 5
    [statement] = checkpoints.purge_statements(site)
    assert statement["first_position"] == 1 and statement["through_position"] == 4
    assert statement["retention_days"] == 365
    assert verification.check_receipt(old[1])["record"] == "purged"
    bundle = tmp_path / "purged.zip"
    bundles.write_bundle(site, bundle)
    db.session.commit()
    report = verify_bundle(str(bundle), signing_keys.public_keys())
    assert report.ok and report.pinned, report.problems
    assert report.chain.first_position == 5

    [again] = retention.purge(site.site_key)
    assert again.deleted == 0


def site_with_expired_records(app, make_site):
    """A site keeping records 30 days: 3 records sealed 400 days ago (expired), 1 yesterday."""
    site = make_site()
    site.retention_days = 30
    db.session.commit()
    seal_in_past(app, site, 3, days_ago=400)
    seal_in_past(app, site, 1, days_ago=1)
    return site


def test_a_purged_log_without_its_purge_statement_fails(app, make_site):
    site = make_site()
    site.retention_days = 30
    db.session.commit()
    old = seal_in_past(app, site, 3, days_ago=400)
    seal_in_past(app, site, 1, days_ago=1)
    retention.purge(site.site_key)
    db.session.execute(PurgeStatement.__table__.delete())
    db.session.commit()
    result = verification.verify_site_log(site)
    assert not result.ok and result.problem.position == 1
    assert "records 1-3 are gone and no signed purge covers them" in str(result.problem)
    assert verification.check_receipt(old[0])["record"] == "not_in_log"


def test_a_purge_statement_edited_in_the_database_fails(app, make_site):
    """Someone with database access claims a longer retention was in force: the signature
    no longer verifies."""
    site = site_with_expired_records(app, make_site)
    retention.purge(site.site_key)
    [text] = db.session.scalars(select(PurgeStatement.statement)).all()
    edited = json.loads(text)
    edited["retention_days"] = 3650
    db.session.execute(PurgeStatement.__table__.update().values(statement=json.dumps(edited)))
    db.session.commit()
    result = verification.verify_site_log(site)
    assert not result.ok
    assert "the purge statement of positions up to 3: bad signature" in str(result.problem)


def test_records_still_in_force_are_kept(app, make_site):
    """A record older than the retention period but whose consent has not lapsed stays."""
    site = make_site()
    site.retention_days = 1
    db.session.commit()
    seal_in_past(app, site, 2, days_ago=5)  # expires in ~177 days
    [outcome] = retention.purge(site.site_key)
    assert outcome.deleted == 0


def test_a_legal_hold_stops_the_purge(app, make_site):
    site = make_site()
    site.retention_days = 30
    site.legal_hold = True
    db.session.commit()
    seal_in_past(app, site, 3, days_ago=400)
    [outcome] = retention.purge()
    assert outcome.held and outcome.deleted == 0
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 3
    db.session.get(Site, site.id).legal_hold = False
    db.session.commit()
    [outcome] = retention.purge()
    assert outcome.deleted == 3
    assert verification.verify_site_log(site).ok


def test_a_purge_stopped_before_its_deletion_is_finished_by_the_next(app, make_site, monkeypatch):
    """The statement and the purge entry are committed before the records go: stopped there,
    the log still verifies (nothing is missing), and the next purge deletes the covered
    records first instead of signing a second statement for them."""
    site = site_with_expired_records(app, make_site)
    real = retention.finish_deletion

    def stop_before_deleting(site_id, through, cutoff):
        if through:
            raise RuntimeError("stopped")
        return real(site_id, through, cutoff)

    monkeypatch.setattr(retention, "finish_deletion", stop_before_deleting)
    with pytest.raises(RuntimeError):
        retention.purge(site.site_key)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 5
    assert verification.verify_site_log(site).ok
    monkeypatch.undo()

    [outcome] = retention.purge(site.site_key)
    assert outcome.deleted == 3
    positions = db.session.scalars(select(ConsentRecord.position).order_by("position")).all()
    assert positions == [4, 5]
    assert len(checkpoints.purge_statements(site)) == 1
    result = verification.verify_site_log(site)
    assert result.ok and result.first_position == 4, result


def test_consents_are_sealed_while_the_purge_deletes(app, backend, make_site, monkeypatch):
    """The site's log lock is not held during the deletion: a consent sealed from another
    connection meanwhile does not wait for it (PostgreSQL; SQLite has one write lock)."""
    if backend == "sqlite":
        pytest.skip("SQLite writers share one database-wide write lock")
    from sqlalchemy import text

    from cmp_server.services import device_secrets
    from cmp_server.services.sealing import seal_batch

    site = make_site()
    site.retention_days = 30
    db.session.commit()
    seal_in_past(app, site, 3, days_ago=400)
    pending = prepared(site)
    real = device_secrets.forget_unrecorded
    sealed = []

    def seal_meanwhile(conn, site_id, bound_before):
        with db.engine.connect() as other:
            other.execute(text("SET lock_timeout = '3s'"))
            sealed.extend(seal_batch(other, [pending]))
            other.commit()
        return real(conn, site_id, bound_before)

    monkeypatch.setattr(device_secrets, "forget_unrecorded", seal_meanwhile)
    [outcome] = retention.purge(site.site_key)
    assert outcome.deleted == 3 and [s[0] for s in sealed] == ["new"]
    positions = db.session.scalars(select(ConsentRecord.position).order_by("position")).all()
    assert positions == [4, 5]  # the purge entry, then the consent sealed during the deletion
    assert verification.verify_site_log(site).ok


def prepared(site):
    from cmp_server.services.consents import prepare_consent
    from cmp_server.services.lookup import site_state
    from cmp_server.visitor import VisitorContext

    body = consent_body("reject_all")
    body["client_ts"] = None
    visitor = VisitorContext("FR", "Firefox", "Linux", "desktop", "192.0.2.0/24", False)
    return prepare_consent(site_state(site.site_key), body, visitor)


def test_two_purges_at_once_sign_one_statement(app, make_site, monkeypatch):
    """Which records go is read before the log is locked: a purge that another purge of the
    same site overtook meanwhile (cron and the console's button) stops instead of signing a
    second statement for the same records."""
    site = site_with_expired_records(app, make_site)
    real = retention.expired_span
    overtaken = []

    def overtaken_by_another_purge(*args):
        span = real(*args)
        if not overtaken:
            overtaken.append(None)
            overtaken.append(retention.purge(site.site_key))  # finishes before this one goes on
        return span

    monkeypatch.setattr(retention, "expired_span", overtaken_by_another_purge)
    [outcome] = retention.purge(site.site_key)
    [other] = overtaken[1]
    assert (other.deleted, outcome.deleted) == (3, 0)
    assert len(checkpoints.purge_statements(site)) == 1
    positions = db.session.scalars(select(ConsentRecord.position).order_by("position")).all()
    assert positions == [4, 5]
    assert verification.verify_site_log(site).ok


def test_the_deletion_goes_in_short_statements_of_one_transaction(app, make_site, monkeypatch):
    """Each DELETE removes at most DELETE_CHUNK records (a long prefix never meets the
    statement timeout), and all of them commit together: stopped in the middle, no record
    has gone and the log verifies."""
    from sqlalchemy import event

    site = make_site()
    site.retention_days = 30
    db.session.commit()
    seal_in_past(app, site, 5, days_ago=400)
    seal_in_past(app, site, 1, days_ago=1)
    monkeypatch.setattr(retention, "DELETE_CHUNK", 2)
    deletes = []

    def count_deletes(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("DELETE FROM consent_records"):
            deletes.append(statement)
            if fail_at and len(deletes) == fail_at:
                raise RuntimeError("stopped")

    fail_at = 3
    event.listen(db.engine, "before_cursor_execute", count_deletes)
    try:
        with pytest.raises(RuntimeError):
            retention.purge(site.site_key)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 7
        assert verification.verify_site_log(site).ok

        deletes.clear()
        fail_at = 0
        [outcome] = retention.purge(site.site_key)
    finally:
        event.remove(db.engine, "before_cursor_execute", count_deletes)
    assert outcome.deleted == 5 and len(deletes) == 3  # positions 1-2, 3-4, 5
    positions = db.session.scalars(select(ConsentRecord.position).order_by("position")).all()
    assert positions == [6, 7]
    assert verification.verify_site_log(site).ok
