"""The live log on both databases: receipts are signed and verifiable; `verify_site_log` names
the first record someone modified, deleted, inserted or reordered directly with SQL; signed
checkpoints catch a rewritten head; key rotation keeps old receipts verifiable."""

import contextlib
import io
import subprocess
import sys
import threading
from types import SimpleNamespace
from unittest import mock

import pytest
from sqlalchemy import select, text, update

from cmp_server.extensions import db
from cmp_server.models import Checkpoint, ConsentRecord, LogHead
from cmp_server.services import checkpoints, signing_keys, split_verify, verification
from tests.fixtures.factories import consent_body
from tests.fixtures.module_app import _module_apps, module_app  # noqa: F401 - fixtures


def post_consents(client, site, n, **overrides):
    receipts = []
    for i in range(n):
        action = ("accept_all", "reject_all", "custom")[i % 3]
        response = client.post(
            f"/api/v1/sites/{site.site_key}/consents", json=consent_body(action, **overrides)
        )
        assert response.status_code == 201, response.json
        receipts.append(response.json)
    return receipts


def sql(statement, **params):
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


class _SentTask(io.BytesIO):
    """The second half's stdin: what the parent wrote, kept when it closes it."""

    def close(self):
        self.sent = self.getvalue()
        super().close()


class InProcessSecondHalf:
    """The second half's process, run in this one when asked for its answer: the same pickled
    task in, the same `_second_half` code, its pickled `Run` out. What `verify` checks is that
    the halves agree with one pass on every tampered log; a Python started for each (it
    imports the app: half a second) was most of this module's time. The real process, that
    it answers and that a failed one is done without, is checked by
    test_the_second_half_is_checked_by_another_process and
    test_a_split_verification_finishes_alone_when_the_child_fails."""

    returncode = None

    def __init__(self, command, stdin, stdout):
        self.stdin = self._task = _SentTask()  # the parent drops `stdin` once it is sent
        self._killed = False

    def communicate(self, timeout=None):
        """In a thread of its own: no app context there, as in the child (which has no app)."""
        if self._killed:  # the parent failed first: nothing to answer
            self.returncode = -9
            return b"", None
        out = io.BytesIO()
        stdin = io.TextIOWrapper(io.BytesIO(self._task.sent))
        stdout = io.TextIOWrapper(out)
        failed = []

        def second_half():
            try:
                split_verify._second_half()
            except BaseException as exc:  # raised here: a broken child fails the test
                failed.append(exc)

        with mock.patch.object(sys, "stdin", stdin), contextlib.redirect_stdout(stdout):
            child = threading.Thread(target=second_half)
            child.start()
            child.join()
        if failed:
            raise failed[0]
        self.returncode = 0
        return out.getvalue(), None

    def kill(self):
        self._killed = True


IN_PROCESS = SimpleNamespace(
    Popen=InProcessSecondHalf, PIPE=subprocess.PIPE, TimeoutExpired=subprocess.TimeoutExpired
)


def verify(site):
    """Verify in one pass and in two halves (the second half's process run in this one, see
    InProcessSecondHalf): both must say the same."""
    db.session.rollback()
    whole = verification.verify_site_log(site, split=False)
    db.session.rollback()
    with mock.patch.object(split_verify, "subprocess", IN_PROCESS):
        halves = verification.verify_site_log(site, split=True)
    assert (halves.ok, halves.problem, halves.records) == (whole.ok, whole.problem, whole.records)
    if whole.ok:
        assert (halves.head_hash, halves.last_position) == (whole.head_hash, whole.last_position)
        assert halves.checkpoints_matched == whole.checkpoints_matched
    return whole


def test_an_untouched_log_verifies(client, make_site):
    site = make_site()
    post_consents(client, site, 8)
    result = verify(site)
    assert result.ok, result
    assert (result.records, result.last_position) == (8, 8)


def test_receipts_are_signed_and_the_endpoint_checks_them(client, make_site):
    site = make_site()
    [receipt] = post_consents(client, site, 1)
    keys = client.get("/.well-known/accord-keys.json").json["keys"]
    assert receipt["key_id"] in {k["key_id"] for k in keys}
    answer = client.post("/api/v1/receipts/verify", json=receipt)
    assert answer.status_code == 200
    assert answer.json["valid"] is True and answer.json["record"] == "found"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"

    forged = client.post("/api/v1/receipts/verify", json={**receipt, "position": 2})
    assert forged.json["valid"] is False and forged.json["signature"] == "invalid"


def test_the_verify_endpoint_reports_a_changed_record(client, make_site):
    site = make_site()
    [receipt] = post_consents(client, site, 1)
    sql("UPDATE consent_records SET record_hash = :h WHERE position = 1", h="0" * 64)
    answer = client.post("/api/v1/receipts/verify", json=receipt).json
    assert (answer["valid"], answer["record"]) == (False, "hash_mismatch")


def test_a_malformed_receipt_is_a_400_in_the_api_error_shape(client):
    answer = client.post("/api/v1/receipts/verify", json={"position": "one"})
    assert answer.status_code == 400
    assert set(answer.json["error"]) == {"code", "message", "fields"}
    assert "position" in answer.json["error"]["fields"]


def test_replays_get_the_same_signed_receipt(client, make_site):
    site = make_site()
    body = consent_body()
    first = client.post(f"/api/v1/sites/{site.site_key}/consents", json=body).json
    again = client.post(f"/api/v1/sites/{site.site_key}/consents", json=body).json
    assert first == again


TAMPERS = {
    "modify a choice": (
        "UPDATE consent_records SET action = 'withdraw' WHERE position = 4",
        4,
    ),
    "modify personal data": (
        "UPDATE consent_records SET country = 'DE' WHERE position = 3",
        3,
    ),
    "delete a record": ("DELETE FROM consent_records WHERE position = 5", 5),
    "delete the last record": ("DELETE FROM consent_records WHERE position = 8", 8),
    "reorder two records": (
        "UPDATE consent_records SET position = -1 WHERE position = 2;"
        "UPDATE consent_records SET position = 2 WHERE position = 6;"
        "UPDATE consent_records SET position = 6 WHERE position = -1",
        2,
    ),
    "erase without logging it": (
        "UPDATE consent_records SET consent_id = NULL, device_id = NULL, language = NULL, "
        "page_url = NULL, country = NULL, browser = NULL, os = NULL, device_type = NULL, "
        "ip_truncated = NULL, client_ts = NULL, salt = NULL, erased_at = received_at "
        "WHERE position = 7",
        7,
    ),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_direct_sql_tampering_is_named(client, make_site, tamper):
    site = make_site()
    post_consents(client, site, 8)
    statements, position = TAMPERS[tamper]
    for statement in statements.split(";"):
        sql(statement)
    result = verify(site)
    assert not result.ok
    assert result.problem.position == position, str(result.problem)


def test_an_inserted_record_is_named(client, make_site):
    """A forged record inserted in the middle (later rows renumbered) is named at its place."""
    site = make_site()
    post_consents(client, site, 6)
    columns = [c.name for c in ConsentRecord.__table__.columns if c.name != "id"]
    forged = {"position": "4", "action": "'accept_all'", "consent_id": "NULL"}
    chosen = ", ".join(forged.get(c, c) for c in columns)
    for position in range(6, 3, -1):
        sql(
            "UPDATE consent_records SET position = :n WHERE position = :p",
            n=position + 1,
            p=position,
        )
    sql(
        f"INSERT INTO consent_records ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {chosen} FROM consent_records WHERE position = 3"
    )
    result = verify(site)
    assert result.problem.position == 4, str(result.problem)


def test_an_appended_record_disagrees_with_the_head(client, make_site):
    site = make_site()
    post_consents(client, site, 3)
    sql("UPDATE log_heads SET size = 2")
    result = verify(site)
    assert result.problem.position == 3


def test_a_rewritten_head_and_tail_is_caught_by_a_checkpoint(client, make_site):
    site = make_site()
    post_consents(client, site, 5)
    checkpoints.make_checkpoint(site)
    db.session.commit()
    sql("DELETE FROM consent_records WHERE position = 5")
    row = db.session.execute(
        select(ConsentRecord.record_hash).where(ConsentRecord.position == 4)
    ).scalar()
    sql("UPDATE log_heads SET size = 4, head_hash = :h", h=row)
    result = verify(site)
    assert result.problem.position == 5
    assert "checkpoint" in result.problem.reason


def test_a_forged_checkpoint_is_reported(client, make_site):
    site = make_site()
    post_consents(client, site, 2)
    checkpoints.make_checkpoint(site)
    db.session.commit()
    sql("UPDATE checkpoints SET size = 1")
    result = verify(site)
    assert not result.ok and "checkpoint" in str(result.problem)


def test_key_rotation_keeps_old_receipts_verifiable(client, make_site):
    site = make_site()
    [old] = post_consents(client, site, 1)
    new_key = checkpoints.rotate_key()
    db.session.commit()
    [new] = post_consents(client, site, 1)
    assert new["key_id"] == new_key != old["key_id"]
    keys = {k["key_id"]: k for k in client.get("/.well-known/accord-keys.json").json["keys"]}
    assert keys[old["key_id"]]["retired_at"] is not None
    assert keys[new_key]["retired_at"] is None
    for receipt in (old, new):
        assert client.post("/api/v1/receipts/verify", json=receipt).json["valid"] is True


def test_private_keys_are_stored_encrypted(app, make_site):
    from cmp_server.models import SigningKey
    from cmp_server.proof.keys import private_raw

    signer = checkpoints.current_signer()
    stored = db.session.scalar(select(SigningKey))
    assert private_raw(signer.key) not in stored.encrypted_private_key
    with pytest.raises(signing_keys.KeyUnavailable, match="SECRET_KEY"):
        signing_keys.decrypt_private_key(
            "another secret key!", stored.encrypted_private_key, stored.key_id
        )


def test_the_writer_makes_scheduled_checkpoints(client, make_site, app, monkeypatch):
    site = make_site()
    post_consents(client, site, 2)
    checkpoints = db.session.scalars(select(Checkpoint)).all()
    assert [(c.size, c.reason) for c in checkpoints] == [(1, "schedule")]  # then not due
    notary = app.extensions["accord_notary"]  # the module's app: put back after the test
    monkeypatch.setattr(notary, "checkpoint_interval", notary.checkpoint_interval * 0)
    post_consents(client, site, 1)
    db.session.rollback()
    sizes = [c.size for c in db.session.scalars(select(Checkpoint).order_by(Checkpoint.id))]
    assert sizes == [1, 3]
    assert verify(site).checkpoints_matched == 2


def test_a_log_head_update_is_a_lock_not_a_change(app, make_site):
    site = make_site()
    db.session.execute(update(LogHead).values(size=LogHead.size))
    db.session.commit()
    assert verify(site).ok


def test_the_second_half_is_checked_by_another_process(client, make_site, monkeypatch):
    """The split really splits: the other process answers for positions 5-8, a change there
    included, and the result is one pass's (no silent fallback to checking here)."""
    answers = []
    answer = split_verify._answer
    monkeypatch.setattr(
        split_verify, "_answer", lambda child: answers.append(answer(child)) or answers[-1]
    )
    site = make_site()
    post_consents(client, site, 8)
    sql("UPDATE consent_records SET regime = 'opt_out' WHERE position = 7")
    db.session.rollback()
    result = verification.verify_site_log(site, split=True)
    [run] = answers
    assert run is not None and (run.start_position, run.result.records) == (5, 2)
    assert not run.result.ok and run.result.problem.position == 7
    assert not result.ok and result.problem.position == 7 and result.records == 6


def test_one_second_process_at_a_time(client, make_site, monkeypatch):
    """While a verification has its second process at work, another one in the same process
    (a Verify pressed again, in another thread of the worker) checks in one pass, same verdict."""

    def started(*args):
        raise AssertionError("a second process was started meanwhile")

    site = make_site()
    post_consents(client, site, 8)
    sql("UPDATE consent_records SET regime = 'opt_out' WHERE position = 7")
    monkeypatch.setattr(split_verify, "_start_second_half", started)
    db.session.rollback()
    with split_verify._SECOND_PROCESS:
        result = verification.verify_site_log(site, split=True)
    assert not result.ok and result.problem.position == 7 and result.records == 6


@pytest.mark.parametrize(
    "child",
    ["import sys; sys.exit(3)", "pass", "import sys; sys.stdout.write('not a pickle')"],
    ids=["dies", "says-nothing", "says-garbage"],
)
def test_a_split_verification_finishes_alone_when_the_child_fails(
    client, make_site, monkeypatch, child
):
    """If the second core's process fails, the second half is checked here: same verdict."""
    site = make_site()
    post_consents(client, site, 8)
    monkeypatch.setattr(split_verify, "CHILD_COMMAND", (sys.executable, "-c", child))
    db.session.rollback()
    result = verification.verify_site_log(site, split=True)
    assert result.ok and result.records == 8
    sql("UPDATE consent_records SET action = 'accept_all' WHERE position = 6")
    db.session.rollback()
    broken = verification.verify_site_log(site, split=True)
    assert not broken.ok and broken.problem.position == 6
