"""Erasure and retention that leave the log verifiable, and are themselves in the log.

Erasure (a device's request): the personal columns and salt of its records are cleared; the
`personal_digest` stays, so every hash still verifies and the tallies are untouched. The
erasure is appended to the same log as an `entry_type="erasure"` entry whose `choices` name
the positions erased (`{"17": true, ...}`: the map-of-booleans shape every reader of
`choices` already handles), with no personal data. Being in the chain, that entry cannot be
removed or altered unnoticed, and the verifier requires one for every erased record: personal
data cleared by someone editing the database directly is reported.

Retention (`accord purge`, daily from cron): per site not under legal hold, records whose
consent has lapsed (`expires_at` passed) and that are older than `Site.retention_days` are
deleted, and so are the bound device secrets (services/device_secrets.py) of the devices no
record names any more. Only a prefix of the log can go (positions 1..k, the longest run of
such records), so what remains is one unbroken chain; a signed purge statement (positions,
retention, the newest record's time, proof/purges.py) and a checkpoint of size k anchor it,
and a `purge` entry in the log records the purge. A record that has not lapsed holds back
the records after it until it does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, Site
from cmp_server.models.types import utcnow
from cmp_server.proof.log import GENESIS_HASH, PERSONAL_FIELDS, timestamp
from cmp_server.services import device_secrets
from cmp_server.services.audit import Actor
from cmp_server.services.sealing import PendingConsent, lock_head, seal_batch

# Erasure clears every personal field that is hashed (PERSONAL_FIELDS), the salt that hides
# them, and the body hash kept for idempotency; personal_digest stays so the chain verifies.
ERASED_COLUMNS = (*PERSONAL_FIELDS, "salt", "body_hash")


def lock_log(conn, site_id: int) -> tuple[int, str]:
    """Take the site's log lock (the same row lock sealing takes); returns (size, head)."""
    return lock_head(conn, site_id)


def append_entry(conn, site_id: int, entry_type: str, action: str, details: dict, now) -> dict:
    """Append a non-consent entry (erasure, purge) to the log, in the caller's transaction."""
    site_key = conn.scalar(select(Site.site_key).where(Site.id == site_id))
    row = {
        "site_id": site_id,
        "entry_type": entry_type,
        "revision": 0,
        "revision_hash": GENESIS_HASH,
        "action": action,
        "choices": details,
        "allowed_kinds": [],
        "regime": "none",
        "gpc": False,
        "received_at": now,
        "expires_at": now,
        **dict.fromkeys(PERSONAL_FIELDS),
    }
    [(_, receipt)] = seal_batch(conn, [PendingConsent(site_id, site_key, row, None, [])])
    return receipt


def erase_records(site_id: int, device_id: str, now: datetime | None = None) -> int:
    """Clear the personal data of a device's records and log the erasure (flushes in the
    session's transaction; the caller commits). Returns how many records were erased."""
    now = now or utcnow()
    conn = db.session.connection()
    lock_log(conn, site_id)  # first: no record of this device can be sealed meanwhile
    positions = list(
        conn.scalars(
            select(ConsentRecord.position)
            .where(ConsentRecord.site_id == site_id, ConsentRecord.device_id == device_id)
            .order_by(ConsentRecord.position)
        )
    )
    if not positions:
        return 0
    details = {str(p): True for p in positions}
    append_entry(conn, site_id, "erasure", "erase", details, now)
    conn.execute(
        update(ConsentRecord)
        .where(ConsentRecord.site_id == site_id, ConsentRecord.position.in_(positions))
        .values(**dict.fromkeys(ERASED_COLUMNS), erased_at=now)
    )
    return len(positions)


@dataclass
class PurgeOutcome:
    """What a purge did (or would do) to one site's log."""

    site_key: str
    deleted: int = 0
    through_position: int = 0
    held: bool = False


def purge_site(
    site: Site, now: datetime | None = None, dry_run: bool = False, actor: Actor | None = None
) -> PurgeOutcome:
    """Delete the site's expired prefix of the log (see the module docstring), audited as
    `consents.purge` by `actor` when records go. Commits (a dry run commits nothing).

    The site's log is locked only while the checkpoint, the signed statement and the purge
    entry are written (one short transaction): which records go is read before, and they are
    deleted after, in a transaction of their own that consents sealed meanwhile never wait
    for. That is safe because nothing at or below the statement's position changes any more
    (sealing only appends; erasure keeps received_at and expires_at). The deletion is one
    transaction (of short statements), so a verifier sees the whole prefix or none of it,
    both of which verify; a purge stopped between the two finds the covered records still
    there and deletes them first (`finish_deletion`)."""
    from cmp_server.services import checkpoints

    outcome = PurgeOutcome(site.site_key)
    if site.legal_hold:
        outcome.held = True
        return outcome
    now = now or utcnow()
    cutoff = now - timedelta(days=site.retention_days)
    signer = None if dry_run else checkpoints.current_signer()  # before any write (SQLite)
    done = checkpoints.purged_through(site)
    leftover = 0 if dry_run else finish_deletion(site.id, done, cutoff)
    span = expired_span(site.id, done, cutoff, now)
    if span is None:
        outcome.deleted = leftover
        return outcome
    first, through = span
    outcome.through_position = through
    if dry_run:
        outcome.deleted = through - first + 1
        return outcome
    conn = db.session.connection()
    records = ConsentRecord.__table__.c
    mine = records.site_id == site.id
    removed = mine, records.position >= first, records.position <= through
    newest, lapsed = conn.execute(  # a scan of what goes: before the lock, not under it
        select(func.max(records.received_at), func.max(records.expires_at)).where(*removed)
    ).one()
    lock_log(conn, site.id)
    if checkpoints.purged_through(site) != done:  # another purge of this site went first
        db.session.rollback()
        outcome.through_position = 0
        return outcome
    head = conn.scalar(select(records.record_hash).where(mine, records.position == through))
    checkpoints.store_checkpoint(conn, site.id, site.site_key, through, head, signer, "purge", now)
    checkpoints.store_purge_statement(
        conn,
        site,
        signer,
        first_position=first,
        through_position=through,
        head_hash=head,
        retention_days=site.retention_days,
        newest_received_at=timestamp(newest),
        latest_expires_at=timestamp(lapsed),
        purged_at=timestamp(now),
    )
    details = {f"through_{through}": True}
    append_entry(conn, site.id, "purge", "purge", details, now)
    if actor is not None:
        actor.record(
            "consents.purge",
            site.site_key,
            details={"deleted": through - first + 1, "through_position": through},
        )
    db.session.commit()  # the statement and the purge entry: the site's log is free again
    outcome.deleted = leftover + finish_deletion(site.id, through, cutoff)
    return outcome


def expired_span(site_id: int, done: int, cutoff: datetime, now: datetime) -> tuple | None:
    """(first, through): the positions after `done` that the purge may delete, the longest
    run from the first one of records older than `cutoff` whose consent has lapsed by `now`;
    None when there are none."""
    records = ConsentRecord.__table__.c
    conn = db.session.connection()
    after = records.site_id == site_id, records.position > done
    first = conn.scalar(select(func.min(records.position)).where(*after))
    if first is None:
        return None
    keep = conn.scalar(
        select(func.min(records.position)).where(
            *after, or_(records.received_at >= cutoff, records.expires_at >= now)
        )
    )
    if keep is not None:
        through = keep - 1
    else:  # rows exist (`first` is not None), so there is a largest position
        through = conn.scalar(select(func.max(records.position)).where(*after)) or 0
    return None if through < first else (first, through)


# Records deleted per statement: each DELETE stays far below the statement timeout
# (ACCORD_DB_STATEMENT_TIMEOUT) however long the purged prefix is.
DELETE_CHUNK = 50_000


def finish_deletion(site_id: int, through: int, cutoff: datetime) -> int:
    """Delete the site's records at or below `through` (covered by a committed purge
    statement) and the device secrets no record names any more; commits. Returns how many
    records went. The records go in chunks of positions, each a short statement, but in one
    transaction: a verifier sees all of them or none."""
    conn = db.session.connection()
    records = ConsentRecord.__table__.c
    mine = records.site_id == site_id
    start = conn.scalar(select(func.min(records.position)).where(mine))
    deleted = 0
    while start is not None and start <= through:
        end = min(start + DELETE_CHUNK - 1, through)
        chunk = mine, records.position >= start, records.position <= end
        deleted += conn.execute(delete(ConsentRecord).where(*chunk)).rowcount
        start = end + 1
    if deleted:
        device_secrets.forget_unrecorded(conn, site_id, cutoff)
    db.session.commit()
    return deleted


def purge(
    site_key: str | None = None, dry_run: bool = False, actor: Actor | None = None
) -> list[PurgeOutcome]:
    """Purge every site (or one), audited by `actor`; each site committed in turn."""
    query = select(Site).order_by(Site.id)
    if site_key:
        query = query.where(Site.site_key == site_key)
    outcomes = []
    for site in db.session.scalars(query).all():
        outcomes.append(purge_site(site, dry_run=dry_run, actor=actor))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    return outcomes
