"""Sealing consents into each site's log, many in one transaction (`seal_batch`).

The committers (services/committers.py) call it: request threads hand a `PendingConsent` to
the process's group committer, whose writer thread seals everything queued at once and only
then answers each waiter.

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
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from cmp_server.models import ConsentRecord, ConsentTally, DeviceSecret, LogHead
from cmp_server.proof.log import (
    PERSONAL_FIELDS,
    PUBLIC_FIELDS,
    new_salt,
    personal_digest,
    record_hash,
    timestamp,
)

records = ConsentRecord.__table__
tallies = ConsentTally.__table__
device_secrets = DeviceSecret.__table__


@dataclass(slots=True)
class PendingConsent:
    """A valid decision, ready to be sealed: every column but its place in the log."""

    site_id: int
    site_key: str
    row: dict
    body_hash: str | None
    tallies: list  # (dimension, value) pairs counted on the decision's day
    secret_hash: str | None = None  # of the device secret the decision presented
    authorise: bool = False  # the writer checks (or binds) the device's secret


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
    new_rows: list = []
    new_secrets: list = []
    moves: list = []
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
    import psycopg  # the driver's own, loaded already (not imported by SQLite-only commands)

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
