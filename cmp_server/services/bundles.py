"""Writing a proof bundle (proof/bundle.py) of a site's log, straight from the database.

Records stream at constant memory: each database row becomes a version 2 line (the exact
bytes its hashes cover, proof/chain.py `record_line`), rebuilt from the row by the same
templates the live verifier uses, so what the bundle holds is what the chain hashed.
"""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, LogHead, Revision
from cmp_server.models.types import utcnow
from cmp_server.proof.bundle import COSIGNATURES, PURGES, RECORDS_MEMBER, BundleWriter
from cmp_server.proof.chain import LINE_FIELDS, record_line
from cmp_server.proof.layout import EXPORT_FIELDS, Col
from cmp_server.proof.log import GENESIS_HASH, timestamp
from cmp_server.schemas.export import EXPORT_FORMAT_VERSION
from cmp_server.services import bundle_evidence, checkpoints, signing_keys, witnesses
from cmp_server.services.record_rows import verify_rows

PROGRESS_EVERY = 1000
HASH_SCHEME = (
    "accord-chain-v1: personal_digest = SHA-256(salt || JCS(personal fields)); record_hash = "
    "SHA-256(JCS(public fields + personal_digest + prev_hash)); genesis prev_hash = 64 zeros"
)


def _position_range(site, since, until) -> tuple[int | None, int | None, int]:
    """The contiguous positions to export (a bundle is one unbroken slice of the chain)."""
    positions = ConsentRecord.position
    size = db.session.scalar(select(LogHead.size).where(LogHead.site_id == site.id)) or 0
    lo = select(db.func.min(positions)).where(ConsentRecord.site_id == site.id)
    hi = select(db.func.max(positions)).where(ConsentRecord.site_id == site.id, positions <= size)
    if since is not None:
        lo = lo.where(ConsentRecord.received_at >= since)
    if until is not None:
        hi = hi.where(ConsentRecord.received_at < until)
    first, last = db.session.scalar(lo), db.session.scalar(hi)
    if first is None or last is None or first > last:
        return None, None, size
    return first, last, size


def _anchor(site, first: int | None, last: int | None, signer) -> str:
    """Make and store the checkpoints that anchor the slice [first, last]: one of the head
    (an export checkpoint), one before `first` and one at `last`. They commit on their own,
    at once: a signed statement of the log is true whether or not the export completes, and
    SQLite must not stay write-locked meanwhile. Returns the hash the slice starts from."""
    start_hash = GENESIS_HASH
    with db.engine.begin() as conn:
        checkpoints.make_checkpoint(site, "export", conn)
        if first is not None and last is not None:
            start_hash = _hash_at(conn, site.id, first, ConsentRecord.prev_hash)
            end_hash = _hash_at(conn, site.id, last, ConsentRecord.record_hash)
            stored = {(c["size"], c["head_hash"]) for c in checkpoints.site_checkpoints(site, conn)}
            for position, head in ((first - 1, start_hash), (last, end_hash)):
                if position > 0 and (position, head) not in stored:
                    checkpoints.store_checkpoint(
                        conn, site.id, site.site_key, position, head, signer, "export"
                    )
    return start_hash


def write_bundle(
    site,
    fileobj_or_path,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    progress=None,
) -> dict:
    """Write a proof bundle of the site's records received in [since, until), widened to one
    contiguous slice of the log, with the checkpoints that anchor it. Flushes; the caller
    commits. Returns the manifest."""
    signer = checkpoints.current_signer()
    first, last, size = _position_range(site, since, until)
    start_hash = _anchor(site, first, last, signer)
    writer = BundleWriter(fileobj_or_path)
    revisions: set[int] = set()
    lines: Iterator[bytes] | tuple = ()
    if first is not None and last is not None:
        lines = _lines(site, first, last, revisions, progress)
    count = writer.write_lines(RECORDS_MEMBER[2], lines)
    writer.write_json("revisions.json", _revision_documents(site, revisions))
    writer.write_json("checkpoints.json", checkpoints.site_checkpoints(site))
    writer.write_json("keys.json", {"keys": signing_keys.key_documents()})
    writer.write_json(PURGES, checkpoints.purge_statements(site))
    writer.write_json(COSIGNATURES, witnesses.cosignatures(site))
    bundle_evidence.write_evidence(writer, site, revisions)
    return writer.close(
        {
            "site_key": site.site_key,
            "created_at": timestamp(utcnow()),
            "since": timestamp(since),
            "until": timestamp(until),
            "log_size": size,
            "export_format_version": EXPORT_FORMAT_VERSION,
            "export_fields": list(EXPORT_FIELDS),
            "record_line_fields": list(LINE_FIELDS),
            "hash_scheme": HASH_SCHEME,
            "records": {
                "count": count,
                "first_position": first,
                "last_position": last,
                "start_hash": start_hash,
            },
        },
        signer,
    )


def _lines(site, first: int, last: int, revisions: set[int], progress) -> Iterator[bytes]:
    """The records member's lines, each ending in a newline."""
    site_key, count = site.site_key, 0
    for row in verify_rows(site.id, first, last):
        revisions.add(row[Col.REVISION])
        yield record_line(site_key, row) + b"\n"
        count += 1
        if progress and count == PROGRESS_EVERY:
            progress(count)
            count = 0
    if progress and count:
        progress(count)


def _hash_at(conn, site_id: int, position: int, column) -> str:
    return conn.scalar(
        select(column).where(ConsentRecord.site_id == site_id, ConsentRecord.position == position)
    )


def _revision_documents(site, numbers: set[int]) -> list[dict]:
    rows = db.session.scalars(
        select(Revision)
        .where(Revision.site_id == site.id, Revision.number.in_(sorted(numbers)))
        .order_by(Revision.number)
    )
    return [
        {
            "revision": r.number,
            "config_hash": r.config_hash,
            "snippet_hash": r.snippet_hash,
            "published_at": timestamp(r.published_at),
            "requires_reconsent": r.requires_reconsent,
            "canonical_json": r.canonical_json,
        }
        for r in rows
    ]
