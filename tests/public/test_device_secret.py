"""The device secret (DESIGN.md, "Device secret"), from the side of someone who knows a
device's ID (it is in the `accord_consent` cookie, which every script of the site and the
site's server read) but not its secret: they can neither read the device's history, nor
erase it, nor add a consent to it; and the secret itself is never kept or shown in clear.
"""

import hashlib
import threading
import uuid

import pytest
from sqlalchemy import event, func, select, text

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, DeviceSecret, LogHead
from cmp_server.schemas.consent import ConsentInSchema
from cmp_server.services import consents, exports, lookup
from cmp_server.services.committers import GroupCommitter
from cmp_server.services.sealing import LOCK_HEAD, seal_batch
from cmp_server.visitor import VisitorContext
from tests.fixtures.factories import consent_body, device_headers, device_secret_for
from tests.fixtures.module_app import _module_apps, module_app  # noqa: F401 - fixtures

ORIGIN = "https://shop.example"
OTHER_SECRET = "attacker-secret-0123456789abcdef"  # well-formed, and not the device's
VISITOR = VisitorContext("FR", "Firefox", "Linux", "desktop", "203.0.113.0/24", False)


def consents_url(site, device_id=None):
    if device_id is None:
        return f"/api/v1/sites/{site.site_key}/consents"
    return f"/api/v1/sites/{site.site_key}/devices/{device_id}/consents"


def post(client, site, body, **kwargs):
    return client.post(consents_url(site), json=body, **kwargs)


def log_size(site) -> int:
    db.session.expire_all()
    return db.session.get(LogHead, site.id).size


def device_records(site, device_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ConsentRecord)
        .where(ConsentRecord.site_id == site.id, ConsentRecord.device_id == device_id)
    )


def bound_hash(site, device_id):
    db.session.expire_all()
    return db.session.scalar(
        select(DeviceSecret.secret_hash).where(
            DeviceSecret.site_id == site.id, DeviceSecret.device_id == device_id
        )
    )


def assert_refused(response):
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "device_secret_mismatch"


@pytest.fixture
def victim(client, make_site):
    """A site and a device that has consented once (so its secret is bound): (site, body)."""
    site = make_site()
    body = consent_body("reject_all")
    assert post(client, site, body).status_code == 201
    return site, body


# --- what someone with only the device ID can do: nothing ---------------------------------


@pytest.mark.parametrize("headers", [{}, {"Accord-Device-Secret": OTHER_SECRET}])
def test_the_device_id_alone_does_not_read_the_history(client, victim, headers):
    site, body = victim
    answer = client.get(consents_url(site, body["device_id"]), headers=headers)
    assert_refused(answer)
    assert body["consent_id"] not in answer.text


@pytest.mark.parametrize("headers", [{}, {"Accord-Device-Secret": OTHER_SECRET}])
def test_the_device_id_alone_does_not_erase(client, victim, headers):
    site, body = victim
    size = log_size(site)
    assert_refused(client.delete(consents_url(site, body["device_id"]), headers=headers))
    assert device_records(site, body["device_id"]) == 1  # nothing erased
    assert log_size(site) == size  # and no erasure entry appended
    assert bound_hash(site, body["device_id"]) is not None


@pytest.mark.parametrize("secret", [OTHER_SECRET, None], ids=["another secret", "no secret"])
def test_the_device_id_alone_does_not_add_a_consent(client, victim, secret):
    """The forged consent would turn marketing on for the victim's device."""
    site, body = victim
    size = log_size(site)
    forged = consent_body("accept_all", device_id=body["device_id"], device_secret=secret)
    assert_refused(post(client, site, forged))
    assert log_size(site) == size
    assert device_records(site, body["device_id"]) == 1


def test_the_device_itself_reads_adds_and_erases(client, victim):
    site, body = victim
    device = body["device_id"]
    later = consent_body("accept_all", device_id=device)
    assert post(client, site, later).status_code == 201
    history = client.get(consents_url(site, device), headers=device_headers(device))
    assert history.status_code == 200
    assert [c["consent_id"] for c in history.json["consents"]] == [
        body["consent_id"],
        later["consent_id"],
    ]
    erased = client.delete(consents_url(site, device), headers=device_headers(device))
    assert erased.status_code == 200 and erased.json["erased"] == 2


def test_a_refusal_reaches_the_sites_origin_as_a_403(client, victim):
    """The snippet must see the 403 (and drop the record), not a network error to retry."""
    site, body = victim
    forged = consent_body("accept_all", device_id=body["device_id"], device_secret=OTHER_SECRET)
    answer = post(client, site, forged, headers={"Origin": ORIGIN})
    assert_refused(answer)
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_the_preflight_lets_the_snippet_send_the_secret_header(client, victim):
    site, body = victim
    answer = client.options(
        consents_url(site, body["device_id"]),
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "accord-device-secret",
        },
    )
    assert answer.status_code == 204
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert "accord-device-secret" in allowed


# --- the secret's own rules ------------------------------------------------------------------


def test_a_consent_without_a_secret_is_kept_and_binds_nothing(client, make_site):
    """A page still running the snippet of an earlier version (or an integrator's own client)
    sends no secret: its decision is recorded, not lost, and the device stays unbound until a
    consent that carries one binds it; from then on a secretless consent is refused."""
    site = make_site()
    device = str(uuid.uuid4())
    answer = post(client, site, consent_body(device_id=device, device_secret=None))
    assert answer.status_code == 201
    assert bound_hash(site, device) is None
    bind = consent_body(device_id=device)
    assert post(client, site, bind).status_code == 201
    assert bound_hash(site, device) is not None
    again = post(client, site, consent_body(device_id=device, device_secret=None))
    assert again.status_code == 403
    assert again.json["error"]["code"] == "device_secret_mismatch"
    assert device_records(site, device) == 2


@pytest.mark.sqlite_only  # input validation, before anything is stored
@pytest.mark.parametrize(
    "secret", ["short", "x" * 129, "has spaces in it 0123456789", "plus+and/slash0123456789", 12]
)
def test_a_malformed_secret_is_a_field_error(client, make_site, secret):
    site = make_site()
    answer = post(client, site, consent_body(device_secret=secret))
    assert answer.status_code == 400
    assert "device_secret" in answer.json["error"]["fields"]


def test_a_replay_gets_the_same_receipt_and_only_with_the_secret(client, victim):
    site, body = victim
    first = post(client, site, body)
    again = post(client, site, body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert_refused(post(client, site, {**body, "device_secret": OTHER_SECRET}))


def test_erasure_unbinds_the_secret_so_the_device_may_start_afresh(client, victim):
    site, body = victim
    device = body["device_id"]
    assert client.delete(consents_url(site, device), headers=device_headers(device)).status_code
    assert bound_hash(site, device) is None
    fresh = consent_body("accept_all", device_id=device, device_secret=OTHER_SECRET)
    assert post(client, site, fresh).status_code == 201
    assert bound_hash(site, device) == hashlib.sha256(OTHER_SECRET.encode()).hexdigest()


# --- devices recorded before device secrets ----------------------------------------------------


def seal_legacy_consent(site, device_id):
    """A record written before device secrets existed: sealed, no secret bound."""
    data = ConsentInSchema().load(consent_body(device_id=device_id))
    del data["device_secret"]
    pending = consents.prepare_consent(lookup.site_state(site.site_key), data, VISITOR)
    with db.engine.begin() as conn:
        seal_batch(conn, [pending])


def test_a_legacy_device_binds_a_secret_with_its_next_consent(client, make_site):
    site = make_site()
    device = str(uuid.uuid4())
    seal_legacy_consent(site, device)
    assert bound_hash(site, device) is None
    # Nothing bound yet: served as before (the device has nothing to prove with).
    assert len(client.get(consents_url(site, device)).json["consents"]) == 1
    assert post(client, site, consent_body("accept_all", device_id=device)).status_code == 201
    assert (
        bound_hash(site, device) == hashlib.sha256(device_secret_for(device).encode()).hexdigest()
    )
    # From now on the secret is required, like any device's.
    assert_refused(client.get(consents_url(site, device)))
    assert_refused(post(client, site, consent_body(device_id=device, device_secret=OTHER_SECRET)))
    history = client.get(consents_url(site, device), headers=device_headers(device))
    assert len(history.json["consents"]) == 2


# --- two first consents at once: one secret wins -------------------------------------------------


def pending_for(site, device_id, secret, authorise=True):
    data = ConsentInSchema().load(consent_body(device_id=device_id, device_secret=secret))
    pending = consents.prepare_consent(lookup.site_state(site.site_key), data, VISITOR)
    pending.authorise = authorise
    return pending


def test_two_binds_in_one_batch_bind_the_first_and_refuse_the_other(app, make_site):
    site = make_site()
    device = str(uuid.uuid4())
    first, same, other = (
        pending_for(site, device, device_secret_for(device)),
        pending_for(site, device, device_secret_for(device)),
        pending_for(site, device, OTHER_SECRET),
    )
    with db.engine.begin() as conn:
        results = seal_batch(conn, [first, same, other], look_up=False)
    assert [outcome for outcome, _ in results] == ["new", "new", "forbidden"]
    assert results[2][1] is None
    assert bound_hash(site, device) == first.secret_hash
    assert device_records(site, device) == 2


def test_a_bind_that_lost_the_race_is_refused_by_the_writer(app, make_site):
    """One writer binds a device's secret and has not committed yet (it holds the site's
    log lock) while another writer seals a first consent of the same device with another
    secret. On PostgreSQL the second looked before the lock and saw nothing bound, so its row
    trips the primary key and the batch is sealed again with the look-up under the lock; on
    SQLite it looks under the lock. Either way: refused, and the first secret stays bound."""
    site = make_site()
    device = str(uuid.uuid4())
    winner = pending_for(site, device, device_secret_for(device))
    loser = pending_for(site, device, OTHER_SECRET)
    committer = GroupCommitter(db.engine)
    answers = []
    second = threading.Thread(target=lambda: answers.append(committer.submit(loser)))
    at_the_lock = threading.Event()

    def note_the_lock(conn, statement, *args):
        if statement is LOCK_HEAD[conn.dialect.name]:
            at_the_lock.set()

    try:
        with db.engine.connect() as first:
            transaction = first.begin()
            assert seal_batch(first, [winner], look_up=False)[0][0] == "new"
            event.listen(db.engine, "before_execute", note_the_lock)  # the second's, from now
            second.start()
            # The second writer has looked (on PostgreSQL, before the lock) and takes the lock
            # that the first holds: the moment to commit the first.
            assert at_the_lock.wait(30), "the second writer never reached the log lock"
            transaction.commit()
        second.join(30)
    finally:
        if event.contains(db.engine, "before_execute", note_the_lock):
            event.remove(db.engine, "before_execute", note_the_lock)
        committer.close()
    assert answers == [("forbidden", None)]
    assert bound_hash(site, device) == winner.secret_hash
    assert device_records(site, device) == 1


def test_the_writer_records_a_secretless_consent_of_an_unbound_device_unbound(app, make_site):
    site = make_site()
    device = str(uuid.uuid4())
    with db.engine.begin() as conn:
        [(outcome, _)] = seal_batch(conn, [pending_for(site, device, None)], look_up=False)
    assert outcome == "new"
    assert bound_hash(site, device) is None
    assert log_size(site) == 1


def test_racing_first_consents_of_one_device_bind_exactly_one_secret(app, make_site):
    """Devices whose first consent is sent twice at once with two secrets (a copied device
    ID racing the real device), through two group committers as two workers would: for
    each device exactly one secret is bound, its consents are recorded, the others refused."""
    site = make_site()
    committers = [GroupCommitter(db.engine), GroupCommitter(db.engine)]
    devices = [str(uuid.uuid4()) for _ in range(8)]
    secrets = {d: (device_secret_for(d), OTHER_SECRET) for d in devices}
    outcomes: dict = {}
    start = threading.Barrier(len(devices) * 2)
    flask_app = app

    def racer(device, which):
        with flask_app.app_context():
            pending = pending_for(site, device, secrets[device][which], authorise=False)
            start.wait()
            try:
                consents.record_consent(pending, committers[which])
                outcomes[device, which] = "recorded"
            except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome
                outcomes[device, which] = getattr(exc, "code", repr(exc))
            db.session.remove()

    threads = [threading.Thread(target=racer, args=(d, w)) for d in devices for w in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for committer in committers:
            committer.close()
    for device in devices:
        results = sorted([outcomes[device, 0], outcomes[device, 1]])
        assert results == ["device_secret_mismatch", "recorded"], (device, results)
        winner = 0 if outcomes[device, 0] == "recorded" else 1
        expected = hashlib.sha256(secrets[device][winner].encode()).hexdigest()
        assert bound_hash(site, device) == expected
        assert device_records(site, device) == 1


# --- never in clear -----------------------------------------------------------------------------


def test_the_secret_is_never_stored_exported_or_shown(client, make_site, caplog):
    site = make_site()
    body = consent_body("custom")
    secret = body["device_secret"]
    receipt = post(client, site, body, headers={"Origin": ORIGIN})
    assert post(client, site, {**body, "device_secret": OTHER_SECRET}).status_code == 403
    history = client.get(
        consents_url(site, body["device_id"]), headers=device_headers(body["device_id"])
    )
    shown = [receipt.text, history.text]
    shown += ["".join(exports.stream_csv(site)), "".join(exports.stream_ndjson(site))]
    for table in ("consent_records", "device_secrets", "consent_tallies", "audit_events"):
        shown.append(
            " ".join(str(row) for row in db.session.execute(text(f"SELECT * FROM {table}")))
        )
    for value in (secret, OTHER_SECRET):
        for where in shown:
            assert value not in where
        assert value not in caplog.text
    # Only its SHA-256, apart from the log; the record's body hash is the decision's alone.
    assert bound_hash(site, body["device_id"]) == hashlib.sha256(secret.encode()).hexdigest()
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.entry_type == "consent"))
    without_secret = ConsentInSchema().load({**body, "device_secret": None})
    assert record.body_hash == consents.body_hash(without_secret)


# --- retention ------------------------------------------------------------------------------------


def test_the_purge_unbinds_the_secrets_of_devices_it_removed_entirely(app, make_site):
    """A device ID is personal data: its bound secret goes with the device's last record."""
    from datetime import timedelta

    from cmp_server.models.types import utcnow
    from cmp_server.services import retention

    site = make_site()
    site.retention_days = 365
    db.session.commit()
    gone, kept = str(uuid.uuid4()), str(uuid.uuid4())
    long_ago = utcnow() - timedelta(days=800)
    state = lookup.site_state(site.site_key)
    pendings = []
    for device, when in ((gone, long_ago), (kept, long_ago), (kept, utcnow())):
        data = ConsentInSchema().load(consent_body(device_id=device))
        data["client_ts"] = None
        pending = consents.prepare_consent(state, data, VISITOR, now=when)
        pending.authorise = when == long_ago
        pendings.append(pending)
    with db.engine.begin() as conn:
        seal_batch(conn, pendings)
    [outcome] = retention.purge(site.site_key)
    db.session.commit()
    assert outcome.deleted == 2
    assert bound_hash(site, gone) is None
    assert bound_hash(site, kept) == hashlib.sha256(device_secret_for(kept).encode()).hexdigest()
