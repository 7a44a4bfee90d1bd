"""Sealing consents into each site's log, many at a time (group commit).

Request threads hand a `PendingConsent` to the process's `GroupCommitter` and wait. Its writer
thread takes everything queued, writes it in one transaction and only then answers each
waiter, so throughput grows with concurrency while every 2xx still follows its commit.

Inside the transaction, the first statement for a site updates its `log_heads` row: that takes
the row lock on PostgreSQL and the write lock on SQLite, so concurrent writers (threads,
workers, hosts) queue up and the chain never forks.

The writer seals optimistically: it does not look for consent_ids already in the log, since
replays are rare and the unique key on (site_id, consent_id) catches them anyway. A batch that
trips the key is rolled back and sealed again, looking them up this time. No lookup then runs
whose plan depends on the table's statistics (on a table not yet analysed, PostgreSQL scans a
site's whole log for it). On PostgreSQL the writes and the COMMIT go in one round trip
(pipeline mode): the site's log is locked for two round trips per batch.

The device secrets (services/device_secrets.py) are checked and bound here, one look-up per
site and batch rather than one per request: each consent must present its device's bound
secret, and a device's first consent binds the one it presents. Binds happen only under the
site's log lock. On PostgreSQL the look-up runs before the lock is taken (the lock is held no
longer), optimistically: a secret bound meanwhile by another writer makes the insert fail on
the primary key, and the batch sealed again looks up under the lock. On SQLite it runs under
the lock (a transaction that has read cannot always start writing there).
"""

import hmac
import logging
import os
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from contextlib import contextmanager, suppress

import psycopg
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from cmp_server.database import write_lock_for
from cmp_server.models import ConsentRecord, ConsentTally, DeviceSecret, LogHead
from cmp_server.proof.log import (
    PERSONAL_FIELDS,
    PUBLIC_FIELDS,
    new_salt,
    personal_digest,
    record_hash,
    timestamp,
)
from cmp_server.proof.receipts import sign_receipt
from cmp_server.services.errors import StorageUnavailable

log = logging.getLogger(__name__)
MAX_BATCH = 256
records = ConsentRecord.__table__
tallies = ConsentTally.__table__
device_secrets = DeviceSecret.__table__


def make_receipt(site_key: str, row: dict) -> dict:
    """The receipt of a sealed record, unsigned (see `sign_receipt`)."""
    receipt = {
        "consent_id": row["consent_id"],
        "site_key": site_key,
        "position": row["position"],
        "hash": row["record_hash"],
        "revision": row["revision"],
        "received_at": timestamp(row["received_at"]),
        "expires_at": timestamp(row["expires_at"]),
    }
    return receipt


def hash_fields(site_key: str, row: dict) -> tuple[dict, dict]:
    """The public and personal parts of a row, in the form that is hashed."""
    values = {
        **row,
        "site_key": site_key,
        "received_at": timestamp(row["received_at"]),
        "expires_at": timestamp(row["expires_at"]),
        "client_ts": timestamp(row["client_ts"]),
    }
    return {f: values[f] for f in PUBLIC_FIELDS}, {f: values[f] for f in PERSONAL_FIELDS}


# The statements of the hot path, built once: building them per batch costs more than
# running them.
heads = LogHead.__table__
# Taking a site's log lock: a row lock on PostgreSQL (no new row version), and on SQLite an
# update, which takes the database's write lock at once.
LOCK_HEAD = {
    "postgresql": select(heads.c.size, heads.c.head_hash)
    .where(heads.c.site_id == bindparam("lock_site"))
    .with_for_update(),
    "sqlite": update(heads)
    .where(heads.c.site_id == bindparam("lock_site"))
    .values(size=heads.c.size)
    .returning(heads.c.size, heads.c.head_hash),
}
MOVE_HEAD = (
    update(heads)
    .where(heads.c.site_id == bindparam("move_site"))
    .values(size=bindparam("new_size"), head_hash=bindparam("new_hash"))
)
_existing_columns = select(
    records.c.consent_id,
    records.c.body_hash,
    records.c.position,
    records.c.record_hash,
    records.c.revision,
    records.c.received_at,
    records.c.expires_at,
).where(records.c.site_id == bindparam("site"))
# On PostgreSQL one array parameter keeps the statement's text the same for any batch size,
# so it is prepared once instead of planned per batch.
FIND_EXISTING = {
    "postgresql": _existing_columns.where(records.c.consent_id == func.any(bindparam("ids"))),
    "sqlite": _existing_columns.where(records.c.consent_id.in_(bindparam("ids", expanding=True))),
}
INSERT_RECORDS = records.insert().inline()  # no RETURNING of the new id: nothing to wait for
_bound_columns = select(device_secrets.c.device_id, device_secrets.c.secret_hash).where(
    device_secrets.c.site_id == bindparam("site")
)
FIND_BOUND = {
    "postgresql": _bound_columns.where(
        device_secrets.c.device_id == func.any(bindparam("devices"))
    ),
    "sqlite": _bound_columns.where(
        device_secrets.c.device_id.in_(bindparam("devices", expanding=True))
    ),
}
INSERT_SECRETS = device_secrets.insert().inline()


def _upsert_tallies(dialect: str):
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(tallies).inline()
    return stmt.on_conflict_do_update(
        index_elements=["site_id", "day", "dimension", "value"],
        set_={"count": tallies.c.count + stmt.excluded["count"]},
    )


UPSERT_TALLIES = {dialect: _upsert_tallies(dialect) for dialect in ("postgresql", "sqlite")}


def lock_head(conn, site_id: int) -> tuple[int, str]:
    """Take the site's log lock, until the transaction ends; returns (size, head hash)."""
    return tuple(conn.execute(LOCK_HEAD[conn.dialect.name], {"lock_site": site_id}).one())


def _existing(conn, site_id: int, consent_ids: set[str]) -> dict:
    statement = FIND_EXISTING[conn.dialect.name]
    rows = conn.execute(statement, {"site": site_id, "ids": list(consent_ids)})
    return {r.consent_id: r._asdict() for r in rows}


def _bound(conn, site_id: int, pendings: list) -> dict:
    """device_id -> bound secret hash, for the devices of `pendings` whose secret is checked."""
    devices = [p.row["device_id"] for p in pendings if p.authorise]
    if not devices:
        return {}
    rows = conn.execute(FIND_BOUND[conn.dialect.name], {"site": site_id, "devices": devices})
    return dict(rows.all())


def check_secret(pending, bound: dict, new_secrets: list) -> str | None:
    """None if `pending` may be sealed: it presents its device's secret (in `bound`, or bound
    earlier in this batch), or its device has none and it presents one, which it binds, or
    presents none (a page still running a snippet from before secrets, or an integrator's
    own client: recorded, and the device stays unbound, as legacy devices are). Otherwise
    "forbidden": another secret is bound, or one is and none was presented."""
    device_id, presented = pending.row["device_id"], pending.secret_hash
    held = bound.get(device_id)
    if held is not None:
        return None if presented and hmac.compare_digest(held, presented) else "forbidden"
    if presented is None:
        return None
    bound[device_id] = presented
    new_secrets.append(
        {
            "site_id": pending.site_id,
            "device_id": device_id,
            "secret_hash": presented,
            "bound_at": pending.row["received_at"],
        }
    )
    return None


def seal_batch(
    conn, pendings: list, signer=None, notary=None, look_up: bool = True, commit: bool = False
) -> list[tuple[str, dict]]:
    """Write `pendings` in the open transaction of `conn`; one (outcome, receipt) each, where
    outcome is "new", "replay" (same consent_id and body), "conflict", or for a pending whose
    device secret is checked (`authorise`), "forbidden" (no receipt, nothing written: see
    `check_secret`). Receipts come back unsigned: signing them is left
    out of the time the site's log is locked. `notary` makes a scheduled checkpoint of each
    site, signed by `signer`, when one is due. With `look_up=False`, consent_ids already in
    the log are not looked for: one of them makes the insert fail on the unique key
    (IntegrityError), and the caller seals the batch again with the look-up; so does a device
    secret bound since this writer looked. `commit` ends the transaction with the writes (on
    PostgreSQL, in the same round trip)."""
    results: list = [None] * len(pendings)
    by_site: dict[int, list[int]] = {}
    for i, pending in enumerate(pendings):
        by_site.setdefault(pending.site_id, []).append(i)
    new_rows, new_secrets, moves = [], [], []
    counts: Counter = Counter()
    groups = {s: [pendings[i] for i in indexes] for s, indexes in by_site.items()}
    early = not look_up and conn.dialect.name == "postgresql"  # see the module's docstring
    known = {s: _bound(conn, s, group) for s, group in groups.items()} if early else {}
    for site_id in sorted(by_site):  # one lock order for every writer: no deadlock
        indexes = by_site[site_id]
        size, prev = lock_head(conn, site_id)
        ids = {pendings[i].row["consent_id"] for i in indexes}
        seen = _existing(conn, site_id, ids) if look_up else {}
        bound = known[site_id] if early else _bound(conn, site_id, groups[site_id])
        for i in indexes:
            pending = pendings[i]
            refusal = pending.authorise and check_secret(pending, bound, new_secrets)
            if refusal:
                results[i] = (refusal, None)
                continue
            consent_id = pending.row["consent_id"]
            prior = seen.get(consent_id)
            if prior is not None:
                outcome = "replay" if prior["body_hash"] == pending.body_hash else "conflict"
                results[i] = (outcome, make_receipt(pending.site_key, prior))
                continue
            size += 1
            row = {**pending.row, "position": size, "prev_hash": prev}
            public, personal = hash_fields(pending.site_key, row)
            salt = new_salt()
            digest = personal_digest(salt, personal)
            prev = row["record_hash"] = record_hash(public, digest, prev)
            row.update(salt=salt, personal_digest=digest, body_hash=pending.body_hash)
            new_rows.append(row)
            seen[consent_id] = row
            results[i] = ("new", make_receipt(pending.site_key, row))
            day = row["received_at"].date()
            for dimension, value in pending.tallies:
                counts[(site_id, day, dimension, value)] += 1
        moves.append({"move_site": site_id, "new_size": size, "new_hash": prev})
        if notary is not None and signer is not None and size:
            site_key = pendings[indexes[0]].site_key
            notary.maybe_checkpoint(conn, site_id, site_key, size, prev, signer)
    with pipeline(conn):  # the writes need no answer: one round trip on PostgreSQL
        conn.execute(MOVE_HEAD, moves)
        if new_secrets:
            conn.execute(INSERT_SECRETS, new_secrets)
        if new_rows:
            conn.execute(INSERT_RECORDS, new_rows)
        if counts:
            add_tallies(conn, counts)
        if commit:
            conn.commit()
    return results


@contextmanager
def pipeline(conn):
    """psycopg's pipeline mode on PostgreSQL (statements sent without waiting for each
    answer, errors raised when leaving it), nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        yield
        return
    driver_connection = conn.connection.dbapi_connection
    with driver_connection.pipeline() as queued:
        try:
            yield
        except (DBAPIError, psycopg.Error):
            # End the aborted pipeline here, so that leaving it raises nothing more (psycopg
            # would log that second error as a warning), then the failed transaction: a
            # COMMIT queued behind the error never ran, and SQLAlchemy counts it as ended.
            for end in (queued.sync, driver_connection.rollback):
                with suppress(psycopg.Error):
                    end()
            raise


def add_tallies(conn, counts: Counter) -> None:
    conn.execute(
        UPSERT_TALLIES[conn.dialect.name],
        [
            {"site_id": s, "day": d, "dimension": dim, "value": v, "count": n}
            for (s, d, dim, v), n in sorted(counts.items())
        ],
    )


class GroupCommitter:
    """One writer thread per process; `submit` blocks until the consent's commit, or for
    `timeout` seconds at most (then StorageUnavailable: the consent may still be committed
    later, and the client's retry with the same body is then a replay, never a double)."""

    def __init__(self, engine, timeout: float = 5.0):
        self.engine = engine
        self.timeout = timeout
        self._busy_since = None  # time.monotonic() when the batch being written was taken
        self.write_lock = write_lock_for(engine)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid = None
        self._start_lock = threading.Lock()
        self._connection = None  # the writer thread's own, kept between batches
        self.notary = None  # set by services.proofs.init_app: signs receipts, checkpoints

    def _ensure_started(self):
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid != os.getpid():  # first use, or first use after a fork
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="accord-group-commit", daemon=True).start()
                self._pid = os.getpid()

    def submit(self, pending) -> tuple[str, dict]:
        self._ensure_started()
        if self.stuck():
            raise StorageUnavailable("The consent store is not answering; try again shortly.")
        future: Future = Future()
        self._queue.put((pending, future))
        try:
            return self.signed(future.result(timeout=self.timeout))
        except TimeoutError:
            raise StorageUnavailable("The consent store did not answer in time.") from None

    def stuck(self) -> bool:
        """Whether the writer has been on one batch for longer than a consent may wait: the
        database hangs, so a new consent is refused at once instead of waiting in vain."""
        busy_since = self._busy_since
        return busy_since is not None and time.monotonic() - busy_since > self.timeout

    def signed(self, result: tuple[str, dict]) -> tuple[str, dict]:
        """(outcome, receipt) with the receipt signed, in the caller's thread: the writer
        thread, which every consent of this process waits for, does not do it."""
        outcome, receipt = result
        signer = self.signer() if receipt is not None else None
        return outcome, sign_receipt(receipt, signer) if signer is not None else receipt

    def _run(self):
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._busy_since = time.monotonic()
            try:
                self.write(batch)
            except BaseException:  # the writer thread must outlive any one batch
                log.exception("consent batch of %d failed unexpectedly", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(StorageUnavailable("The consent store failed."))
            finally:
                self._busy_since = None

    def signer(self):
        """The current signing key, or None (receipts then go unsigned, and the reason is
        logged: a key problem must not stop consents from being recorded)."""
        if self.notary is None:
            return None
        try:
            return self.notary.signer()
        except Exception as exc:
            log.error("receipts are not signed: %s", exc)
            return None

    def is_duplicate(self, exc: Exception) -> bool:
        """Whether `exc` is the database refusing a row on a unique key (raised by the driver
        when a psycopg pipeline ends, wrapped by SQLAlchemy otherwise)."""
        return isinstance(getattr(exc, "orig", exc), self.engine.dialect.dbapi.IntegrityError)

    @contextmanager
    def transaction(self):
        """A transaction on the writer's own connection, kept between batches: a batch costs
        no pool checkout and no liveness ping. A connection found dead is replaced (see
        `write`)."""
        conn = self._connection
        if conn is None or conn.closed or conn.invalidated:
            conn = self._connection = self.engine.connect()
        try:
            with conn.begin():
                yield conn
        except BaseException:
            # Also after a failed commit, which leaves SQLAlchemy's transaction set; a dead
            # connection may refuse even this, and the first error is the one to report.
            with suppress(DBAPIError):
                conn.rollback()
            raise

    def close(self) -> None:
        """Close the kept connection (the next batch opens another)."""
        if self._connection is not None:
            self._connection.close()

    def write(self, batch, reconnected: bool = False, look_up: bool = False):
        """Seal `batch` and answer its waiters. First optimistically (see the module's
        docstring), then with the look-up of existing consent_ids, then consent by consent."""
        signer = self.signer()  # before the batch's transaction: it may create the key
        pendings = [p for p, _ in batch]
        try:
            with self.write_lock(), self.transaction() as conn:
                results = seal_batch(
                    conn, pendings, signer, self.notary, look_up=look_up, commit=True
                )
        except Exception as exc:  # every waiter learns the batch failed; none was committed
            if isinstance(exc, DBAPIError) and exc.connection_invalidated and not reconnected:
                return self.write(batch, True, look_up)  # the kept connection had died
            if not look_up and self.is_duplicate(exc):  # a replay: seal again, looking up
                return self.write(batch, reconnected, look_up=True)
            if len(batch) > 1:  # one bad record must not fail the others: try each alone
                for item in batch:
                    self.write([item], reconnected=True, look_up=True)
                return
            log.warning("consent batch of %d failed: %s", len(batch), exc)
            error = StorageUnavailable("The consent store is unavailable; try again shortly.")
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


class DirectCommitter(GroupCommitter):
    """Seals each consent in its own transaction, in the caller's thread (no batching)."""

    @contextmanager
    def transaction(self):
        with self.engine.begin() as conn:  # callers are many threads: a pooled connection
            yield conn

    def submit(self, pending) -> tuple[str, dict]:
        future: Future = Future()
        self.write([(pending, future)])
        return self.signed(future.result())
