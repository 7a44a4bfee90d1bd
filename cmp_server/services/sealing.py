"""Sealing consents into each site's log, many at a time (group commit).

Request threads hand a `PendingConsent` to the process's `GroupCommitter` and wait. Its writer
thread takes everything queued, writes it in one transaction and only then answers each
waiter, so throughput grows with concurrency while every 2xx still follows its commit.

Inside the transaction, the first statement for a site updates its `log_heads` row: that takes
the row lock on PostgreSQL and the write lock on SQLite, so concurrent writers (threads,
workers, hosts) queue up and the chain never forks.
"""

import logging
import os
import queue
import threading
from collections import Counter
from concurrent.futures import Future

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cmp_server.models import ConsentRecord, ConsentTally, LogHead
from cmp_server.proof.log import (
    PERSONAL_FIELDS,
    PUBLIC_FIELDS,
    new_salt,
    personal_digest,
    record_hash,
    timestamp,
)
from cmp_server.services.errors import StorageUnavailable

log = logging.getLogger(__name__)
MAX_BATCH = 256
records = ConsentRecord.__table__
tallies = ConsentTally.__table__


def make_receipt(site_key: str, row: dict) -> dict:
    return {
        "consent_id": row["consent_id"],
        "site_key": site_key,
        "position": row["position"],
        "hash": row["record_hash"],
        "revision": row["revision"],
        "received_at": timestamp(row["received_at"]),
        "expires_at": timestamp(row["expires_at"]),
    }


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


def _existing(conn, site_id: int, consent_ids: set[str]) -> dict:
    rows = conn.execute(
        select(
            records.c.consent_id,
            records.c.body_hash,
            records.c.position,
            records.c.record_hash,
            records.c.revision,
            records.c.received_at,
            records.c.expires_at,
        ).where(records.c.site_id == site_id, records.c.consent_id.in_(consent_ids))
    )
    return {r.consent_id: r._asdict() for r in rows}


def seal_batch(conn, pendings: list) -> list[tuple[str, dict]]:
    """Write `pendings` in the open transaction of `conn`; one (outcome, receipt) each, where
    outcome is "new", "replay" (same consent_id and body) or "conflict"."""
    results: list = [None] * len(pendings)
    by_site: dict[int, list[int]] = {}
    for i, pending in enumerate(pendings):
        by_site.setdefault(pending.site_id, []).append(i)
    new_rows = []
    counts: Counter = Counter()
    for site_id in sorted(by_site):  # one lock order for every writer: no deadlock
        indexes = by_site[site_id]
        size, prev = conn.execute(
            update(LogHead)
            .where(LogHead.site_id == site_id)
            .values(size=LogHead.size)
            .returning(LogHead.size, LogHead.head_hash)
        ).one()
        seen = _existing(conn, site_id, {pendings[i].row["consent_id"] for i in indexes})
        for i in indexes:
            pending = pendings[i]
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
        conn.execute(
            update(LogHead).where(LogHead.site_id == site_id).values(size=size, head_hash=prev)
        )
    if new_rows:
        conn.execute(records.insert(), new_rows)
    if counts:
        add_tallies(conn, counts)
    return results


def add_tallies(conn, counts: Counter) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(tallies)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site_id", "day", "dimension", "value"],
        set_={"count": tallies.c.count + stmt.excluded["count"]},
    )
    conn.execute(
        stmt,
        [
            {"site_id": s, "day": d, "dimension": dim, "value": v, "count": n}
            for (s, d, dim, v), n in sorted(counts.items())
        ],
    )


class GroupCommitter:
    """One writer thread per process; `submit` blocks until the consent's commit."""

    def __init__(self, engine, timeout: float = 20.0):
        self.engine = engine
        self.timeout = timeout
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid = None
        self._start_lock = threading.Lock()

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
        future: Future = Future()
        self._queue.put((pending, future))
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError:
            raise StorageUnavailable("The consent store did not answer in time.") from None

    def _run(self):
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.write(batch)

    def write(self, batch):
        try:
            with self.engine.begin() as conn:
                results = seal_batch(conn, [pending for pending, _ in batch])
        except Exception as exc:  # every waiter learns the batch failed; none was committed
            log.warning("consent batch of %d failed: %s", len(batch), exc)
            error = StorageUnavailable("The consent store is unavailable; try again shortly.")
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


class DirectCommitter(GroupCommitter):
    """Seals each consent in its own transaction, in the caller's thread (no batching)."""

    def submit(self, pending) -> tuple[str, dict]:
        future: Future = Future()
        self.write([(pending, future)])
        return future.result()
