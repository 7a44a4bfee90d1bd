"""Group commit: concurrent consents are sealed in batches, answered after the commit,
and the site's log stays one unbroken chain on both databases."""

import threading

import pytest
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, ConsentTally, LogHead
from cmp_server.proof.log import GENESIS_HASH, personal_digest, record_hash
from cmp_server.services import consents, lookup
from cmp_server.services.committers import GroupCommitter
from cmp_server.services.sealing import hash_fields, seal_batch
from cmp_server.visitor import VisitorContext
from tests.fixtures.factories import consent_body

VISITOR = VisitorContext("FR", "Firefox", "Linux", "desktop", "203.0.113.0/24", False)


@pytest.fixture
def new_committer():
    """GroupCommitter(engine), closed after the test (its kept connection)."""
    made = []

    def make(engine=None, **options):
        made.append(GroupCommitter(engine or db.engine, **options))
        return made[-1]

    yield make
    for committer in made:
        committer.close()


def pending_for(site, **body):
    from cmp_server.schemas.consent import ConsentInSchema

    data = ConsentInSchema().load(consent_body(**body))
    return consents.prepare_consent(lookup.site_state(site.site_key), data, VISITOR)


def assert_chain_is_whole(site):
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.site_id == site.id)
        .order_by(ConsentRecord.position)
    ).all()
    prev = GENESIS_HASH
    for expected_position, row in enumerate(rows, start=1):
        assert row.position == expected_position
        assert row.prev_hash == prev
        values = {c.name: getattr(row, c.name) for c in ConsentRecord.__table__.columns}
        public, personal = hash_fields(site.site_key, values)
        assert row.personal_digest == personal_digest(row.salt, personal)
        assert row.record_hash == record_hash(public, row.personal_digest, prev)
        prev = row.record_hash
    head = db.session.get(LogHead, site.id)
    db.session.refresh(head)
    assert (head.size, head.head_hash) == (len(rows), prev)
    return rows


def test_a_batch_is_sealed_in_order_with_tallies(app, make_site):
    site = make_site()
    pendings = [pending_for(site, action="accept_all") for _ in range(5)]
    with db.engine.begin() as conn:
        results = seal_batch(conn, pendings)
    assert [outcome for outcome, _ in results] == ["new"] * 5
    assert [receipt["position"] for _, receipt in results] == [1, 2, 3, 4, 5]
    rows = assert_chain_is_whole(site)
    assert len(rows) == 5
    tallies = {(t.dimension, t.value): t.count for t in db.session.scalars(select(ConsentTally))}
    assert tallies[("total", "all")] == 5
    assert tallies[("granted", "marketing")] == 5
    assert tallies[("kind", "beacon")] == 5
    assert tallies[("country", "FR")] == 5


def test_duplicates_inside_one_batch_are_replays_or_conflicts(app, make_site):
    site = make_site()
    first = pending_for(site, action="reject_all")
    same = pending_for(
        site,
        action="reject_all",
        consent_id=first.row["consent_id"],
        device_id=first.row["device_id"],
    )
    same.body_hash = first.body_hash
    other = pending_for(site, action="accept_all", consent_id=first.row["consent_id"])
    with db.engine.begin() as conn:
        results = seal_batch(conn, [first, same, other])
    assert [outcome for outcome, _ in results] == ["new", "replay", "conflict"]
    assert results[0][1] == results[1][1]
    assert len(assert_chain_is_whole(site)) == 1


def test_concurrent_writers_never_fork_the_chain(app, make_site, new_committer):
    """Forty threads post through two group committers (as two workers would): every consent
    is stored once, positions have no gap, and every hash links to the one before."""
    site = make_site()
    other_site = make_site(name="Other")
    committers = [new_committer(), new_committer()]
    receipts, errors = [], []
    flask_app = app

    def visitor_thread(n):
        try:
            with flask_app.app_context():
                for i in range(5):
                    target = site if (n + i) % 3 else other_site
                    pending = pending_for(target, action="custom")
                    receipt, replayed = consents.record_consent(pending, committers[n % 2])
                    receipts.append((target.site_key, receipt["position"]))
                    assert not replayed
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=visitor_thread, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(receipts) == 200
    assert len(set(receipts)) == 200  # no two consents got the same position
    db.session.expire_all()
    total = len(assert_chain_is_whole(site)) + len(assert_chain_is_whole(other_site))
    assert total == 200


def test_a_failed_batch_answers_every_waiter_with_503(app, make_site, new_committer):
    from sqlalchemy import create_engine

    from cmp_server.services.errors import StorageUnavailable

    site = make_site()
    pending = pending_for(site)
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    committer = new_committer(dead, timeout=10)
    try:
        consents.record_consent(pending, committer)
    except StorageUnavailable as exc:
        assert exc.status == 503
    else:
        raise AssertionError("a batch on an unreachable database must fail")


def test_a_record_the_database_refuses_fails_alone(app, make_site, new_committer):
    """One poisoned consent in a batch (here a NUL byte, which PostgreSQL refuses) fails
    alone: the others in its batch are still sealed and answered."""
    from concurrent.futures import Future

    from cmp_server.services.errors import StorageUnavailable

    site = make_site()
    good = [pending_for(site) for _ in range(3)]
    bad = pending_for(site)
    bad.row["page_url"] = "https://shop.example/\x00"
    committer = new_committer()
    batch = [(p, Future()) for p in [good[0], bad, good[1], good[2]]]
    committer.write(batch)
    outcomes = []
    for _, future in batch:
        try:
            outcomes.append(future.result(5)[0])
        except StorageUnavailable:
            outcomes.append("failed")
    if db.engine.dialect.name == "postgresql":
        assert outcomes == ["new", "failed", "new", "new"]
    else:
        assert outcomes == ["new"] * 4
    assert_chain_is_whole(site)


def test_the_writer_keeps_its_connection_and_replaces_a_dead_one(app, make_site, new_committer):
    """Batches reuse the writer's own connection (no checkout, no ping); when the database
    has dropped it, the next batch reconnects and is sealed all the same."""
    from concurrent.futures import Future

    from sqlalchemy import text

    site = make_site()
    committer = new_committer()

    def seal_one():
        future = Future()
        committer.write([(pending_for(site), future)])
        return future.result(5)[0]

    assert seal_one() == "new"
    kept = committer._connection
    assert seal_one() == "new"
    assert committer._connection is kept
    if db.engine.dialect.name == "postgresql":
        pid = kept.connection.dbapi_connection.info.backend_pid
        with db.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert seal_one() == "new"
        assert committer._connection is not kept
    committer.close()
    assert seal_one() == "new"
    assert_chain_is_whole(site)


def test_the_writer_seals_new_consents_without_looking_them_up(
    app, make_site, new_committer, monkeypatch
):
    """New consents cost no look-up of existing consent_ids: the unique key is the check."""
    from concurrent.futures import Future

    from cmp_server.services import sealing

    site = make_site()
    monkeypatch.setattr(sealing, "_existing", lambda *args: pytest.fail("looked up"))
    batch = [(pending_for(site), Future()) for _ in range(3)]
    new_committer().write(batch)
    assert [future.result(5)[0] for _, future in batch] == ["new"] * 3
    assert len(assert_chain_is_whole(site)) == 3


def test_a_replay_in_a_batch_is_sealed_again_with_the_look_up(
    app, make_site, new_committer, monkeypatch, caplog
):
    """The optimistic insert trips the unique key on a consent_id already in the log; the
    batch is rolled back (nothing of it stays) and sealed once more with the look-up: the
    replay gets its first receipt, the conflict its 409 outcome, the others are sealed, and
    nothing is logged as an error."""
    from concurrent.futures import Future

    from cmp_server.services import sealing

    site = make_site()
    sealed = pending_for(site, action="reject_all")
    first = Future()
    committer = new_committer()
    committer.write([(sealed, first)])
    assert first.result(5)[0] == "new"

    attempts = []
    real_seal = sealing.seal_batch

    def counting_seal(*args, look_up=True, **options):
        attempts.append(look_up)
        return real_seal(*args, look_up=look_up, **options)

    monkeypatch.setattr(sealing, "seal_batch", counting_seal)
    conflicting = pending_for(site, action="accept_all", consent_id=sealed.row["consent_id"])
    batch = [(pending_for(site), Future()), (sealed, Future()), (conflicting, Future())]
    batch.append((pending_for(site), Future()))
    with caplog.at_level("WARNING"):
        committer.write(batch)
    assert [future.result(5)[0] for _, future in batch] == ["new", "replay", "conflict", "new"]
    assert batch[1][1].result()[1] == first.result()[1]
    assert attempts == [False, True]
    assert [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []
    rows = assert_chain_is_whole(site)
    assert [r.position for r in rows] == [1, 2, 3]
    tallies = {(t.dimension, t.value): t.count for t in db.session.scalars(select(ConsentTally))}
    assert tallies[("total", "all")] == 3  # the rolled-back attempt counted nothing


def test_a_batch_failing_on_the_unique_key_is_retried_consent_by_consent(
    app, make_site, new_committer, monkeypatch
):
    """If even the look-up of existing consent_ids misses one (here: made to), the batch's
    insert fails on the unique key again; the batch is retried consent by consent, that one
    is then a replay with its first receipt, and the others are sealed."""
    from concurrent.futures import Future

    from cmp_server.services import sealing

    site = make_site()
    raced, other = pending_for(site), pending_for(site)
    first = Future()
    new_committer().write([(raced, first)])
    assert first.result(5)[0] == "new"

    real_existing = sealing._existing
    calls = []

    def misses_once(conn, site_id, consent_ids):
        calls.append(consent_ids)
        return {} if len(calls) == 1 else real_existing(conn, site_id, consent_ids)

    monkeypatch.setattr(sealing, "_existing", misses_once)
    batch = [(raced, Future()), (other, Future())]
    new_committer().write(batch)
    assert [future.result(5)[0] for _, future in batch] == ["replay", "new"]
    assert batch[0][1].result()[1]["position"] == first.result()[1]["position"]
    rows = assert_chain_is_whole(site)
    assert len(rows) == 2


def test_an_error_inside_a_pipeline_is_raised_and_not_logged_twice(app, caplog):
    """An error that surfaces while the pipeline is still open, with statements still queued
    behind it (as when a batch's insert fails and its results are read while the tallies are
    sent), is raised as is; leaving the aborted pipeline adds no second error to the log."""
    import psycopg
    from sqlalchemy import text

    from cmp_server.services.sealing import pipeline

    if db.engine.dialect.name != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's; on SQLite pipeline() does nothing")
    with db.engine.connect() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE once (a int UNIQUE)"))
        conn.execute(text("INSERT INTO once VALUES (1)"))
        conn.commit()
        with (
            caplog.at_level("WARNING"),
            pytest.raises(psycopg.Error, match="read early"),
            pipeline(conn),
        ):
            conn.execute(text("INSERT INTO once VALUES (:a)"), [{"a": 2}, {"a": 1}])
            raise psycopg.errors.UniqueViolation("read early")
        assert [r.getMessage() for r in caplog.records] == []
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM once")).scalar() == 1
