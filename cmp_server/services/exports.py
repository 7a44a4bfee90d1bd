"""Streaming consent records out of the database: CSV, NDJSON, proof bundles, and the rows the
chain verifier reads.

A million records must stream at constant memory and well over 50,000 records/s, so rows are
read with plain SQL through a server-side cursor (PostgreSQL) or SQLite's incremental fetch,
in position order, without ORM objects; the database formats times in the one text form
hashes use (`log.timestamp`), so no Python datetime is made per row.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord, LogHead, Revision
from cmp_server.models.types import utcnow
from cmp_server.proof.bundle import COSIGNATURES, PURGES, BundleWriter
from cmp_server.proof.canonical import fast_canonical_bytes
from cmp_server.proof.log import GENESIS_HASH, timestamp
from cmp_server.proof.verify import VERIFY_COLUMNS, CanonicalJSON
from cmp_server.schemas.export import EXPORT_FIELDS, EXPORT_FORMAT_VERSION
from cmp_server.services.csv_cells import make_cells_safe, safe_cell

TIME_COLUMNS = {"received_at", "expires_at", "client_ts", "erased_at"}
JSON_COLUMNS = {"choices", "allowed_kinds"}
# Columns whose values the server formats (numbers, times, hashes, UUIDs, JSON, booleans):
# no spreadsheet formula can start them. Every other column is checked (`safe_cell`).
FIXED_FORMAT_COLUMNS = (
    TIME_COLUMNS
    | JSON_COLUMNS
    | {
        "position",
        "revision",
        "consent_id",
        "device_id",
        "entry_type",
        "gpc",
        "revision_hash",
        "salt",
        "personal_digest",
        "prev_hash",
        "record_hash",
    }
)
DB_EXPORT_COLUMNS = EXPORT_FIELDS[1:]  # all but site_key, which is the same on every row
CHUNK_ROWS = 1000
HASH_SCHEME = (
    "accord-chain-v1: personal_digest = SHA-256(salt || JCS(personal fields)); record_hash = "
    "SHA-256(JCS(public fields + personal_digest + prev_hash)); genesis prev_hash = 64 zeros"
)
_ndjson = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _column_sql(name: str, dialect: str) -> str:
    if name in TIME_COLUMNS:
        if dialect == "postgresql":
            return f"""to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (always 6 digits).
        return f"replace({name}, ' ', 'T') || 'Z'"
    if name in JSON_COLUMNS and dialect == "postgresql":
        return f"{name}::text"  # parsed once per distinct value below, not once per row
    return name


def _adapter(columns: tuple[str, ...], canonical: bool = False) -> Callable:
    """Python fix-ups of a raw row: JSON arrives as text (parsed through a small cache: a site
    has few distinct `choices`, so most rows cost a dict lookup) and SQLite booleans as 0/1.
    With `canonical`, JSON values come out as their RFC 8785 text (CanonicalJSON), which is
    what the chain verifier hashes."""
    json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]
    bool_at = [i for i, c in enumerate(columns) if c == "gpc"]
    loads = json.loads
    cache: dict[str, object] = {}

    def parse(text):
        value = cache.get(text)
        if value is None:
            if len(cache) > 10_000:
                cache.clear()
            value = loads(text)
            if canonical:
                value = CanonicalJSON(fast_canonical_bytes(value).decode())
            cache[text] = value
        return value

    def adapt(row):
        row = list(row)
        for i in json_at:
            row[i] = parse(row[i])
        for i in bool_at:
            row[i] = row[i] is True or row[i] == 1
        return row

    return adapt


def _bind_time(value: datetime, dialect: str):
    if dialect == "postgresql":
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLite's stored form


def stream_rows(
    site_id: int,
    columns: tuple[str, ...],
    first: int | None = None,
    last: int | None = None,
    filters: dict | None = None,
    batch: int = 5000,
    canonical: bool = False,
) -> Iterator[tuple]:
    """Rows of a site's log as tuples of `columns`, in position order, from `first` to `last`
    (inclusive) and matching `filters` (since, until, consent_id, device_id).

    Uses the driver's cursor directly (a named, server-side cursor on PostgreSQL): SQLAlchemy's
    result layer would cost more per row than the verification itself."""
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    with db.engine.connect() as conn:
        dialect = conn.dialect.name
        mark = "%({})s" if dialect == "postgresql" else ":{}"
        where = [f"site_id = {mark.format('site_id')}"]
        params: dict = {"site_id": site_id, "first": first, "last": last, **filters}
        for name, test in (("first", ">="), ("last", "<=")):
            if params[name] is not None:
                where.append(f"position {test} {mark.format(name)}")
        for name, test in (("since", ">="), ("until", "<")):
            if name in filters:
                where.append(f"received_at {test} {mark.format(name)}")
                params[name] = _bind_time(filters[name], dialect)
        for name in ("consent_id", "device_id"):
            if name in filters:
                where.append(f"{name} = {mark.format(name)}")
        sql = (
            f"SELECT {', '.join(_column_sql(c, dialect) for c in columns)} "  # noqa: S608
            f"FROM consent_records WHERE {' AND '.join(where)} ORDER BY position"
        )
        raw = conn.connection.driver_connection
        if dialect == "postgresql":
            cursor = raw.cursor(name="accord_stream")
            cursor.itersize = batch
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            adapt = _adapter(columns, canonical)
            while rows := cursor.fetchmany(batch):
                yield from map(adapt, rows)
        finally:
            cursor.close()
            if dialect == "postgresql":
                raw.rollback()  # end the read transaction the named cursor lived in


def iter_records(
    site_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    consent_id: str | None = None,
    device_id: str | None = None,
) -> Iterator[dict]:
    """Exported records (EXPORT_FIELDS, JSON-ready values) in position order."""
    from cmp_server.models import Site

    site_key = db.session.scalar(select(Site.site_key).where(Site.id == site_id))
    filters = {"since": since, "until": until, "consent_id": consent_id, "device_id": device_id}
    return _export_dicts(site_key, stream_rows(site_id, DB_EXPORT_COLUMNS, filters=filters))


def _export_dicts(site_key: str, rows) -> Iterator[dict]:
    salt_at = EXPORT_FIELDS.index("salt")
    for row in rows:
        values = [site_key, *row]
        if values[salt_at] is not None:
            values[salt_at] = values[salt_at].hex()
        yield dict(zip(EXPORT_FIELDS, values, strict=True))


def stream_csv(site, since=None, until=None, *, progress=None) -> Iterator[str]:
    """The site's records as CSV text chunks: a header row of EXPORT_FIELDS, then one row each.

    The site's id and key are read now, not when the body streams: a streamed response
    outlives the request's session, and an expired `Site` cannot be reloaded then."""
    return _csv_chunks(site.id, site.site_key, since, until, progress)


def _csv_chunks(site_id: int, site_key: str, since, until, progress) -> Iterator[str]:
    """Rows go from the driver to `csv.writer.writerows` as lists, without a dict per record:
    JSON columns arrive already canonical (cached per distinct value), so a row costs a few
    index fix-ups. Cells that could hold free text (the browser name comes from the visitor's
    User-Agent) go through `safe_cell`, so a spreadsheet never reads them as formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    filters = {"since": since, "until": until}
    rows = stream_rows(site_id, DB_EXPORT_COLUMNS, filters=filters, canonical=True)
    salt_at = DB_EXPORT_COLUMNS.index("salt")
    gpc_at = DB_EXPORT_COLUMNS.index("gpc")
    text_at = [i for i, c in enumerate(DB_EXPORT_COLUMNS) if c not in FIXED_FORMAT_COLUMNS]
    site_cell = safe_cell(site_key)

    def csv_rows():
        for row in rows:
            salt = row[salt_at]
            if salt is not None:
                row[salt_at] = salt.hex()
            row[gpc_at] = "true" if row[gpc_at] else "false"
            make_cells_safe(row, text_at)
            row.insert(0, site_cell)
            yield row

    chunks = csv_rows()
    while chunk := list(islice(chunks, CHUNK_ROWS)):
        writer.writerows(chunk)
        yield _take(buffer)
        if progress:
            progress(len(chunk))
    if buffer.tell():  # the header of an empty export
        yield _take(buffer)


def stream_ndjson(site, since=None, until=None, *, progress=None) -> Iterator[str]:
    """The site's records as NDJSON text chunks: one JSON object per line, EXPORT_FIELDS order.
    Like `stream_csv`, it reads the site's id and key now."""
    return _ndjson_chunks(site.id, site.site_key, since, until, progress)


def _ndjson_chunks(site_id: int, site_key: str, since, until, progress) -> Iterator[str]:
    filters = {"since": since, "until": until}
    records = _export_dicts(site_key, stream_rows(site_id, DB_EXPORT_COLUMNS, filters=filters))
    lines = []
    for record in records:
        lines.append(_ndjson(record))
        if len(lines) == CHUNK_ROWS:
            lines.append("")
            yield "\n".join(lines)
            lines = []
            if progress:
                progress(CHUNK_ROWS)
    if lines:
        lines.append("")
        yield "\n".join(lines)
        if progress:
            progress(len(lines) - 1)


def _take(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def export_headers(site_key: str, fmt: str) -> dict:
    """HTTP headers for an export download (the admin API uses these)."""
    media = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}[fmt]
    return {
        "Content-Type": media,
        "Content-Disposition": f'attachment; filename="accord-{site_key}-consents.{fmt}"',
        "X-Accord-Export-Version": str(EXPORT_FORMAT_VERSION),
    }


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


def write_bundle(site, fileobj_or_path, since=None, until=None, *, progress=None) -> dict:
    """Write a proof bundle (proof/bundle.py) of the site's records received in [since, until),
    widened to one contiguous slice of the log. Makes and stores the checkpoints that anchor it
    (an export checkpoint of the head, and of the slice's ends). Flushes; the caller commits.
    Returns the manifest."""
    from cmp_server.services import proofs, witnesses

    signer = proofs.current_signer()
    first, last, size = _position_range(site, since, until)
    start_hash = GENESIS_HASH
    # The checkpoints commit on their own, at once: a signed statement of the log is true
    # whether or not the export completes, and SQLite must not stay write-locked meanwhile.
    with db.engine.begin() as conn:
        proofs.make_checkpoint(site, "export", conn)
        if first is not None:
            start_hash = _hash_at(conn, site.id, first, ConsentRecord.prev_hash)
            end_hash = _hash_at(conn, site.id, last, ConsentRecord.record_hash)
            stored = {(c["size"], c["head_hash"]) for c in proofs.site_checkpoints(site, conn)}
            for position, head in ((first - 1, start_hash), (last, end_hash)):
                if position > 0 and (position, head) not in stored:
                    proofs.store_checkpoint(
                        conn, site.id, site.site_key, position, head, signer, "export"
                    )
    writer = BundleWriter(fileobj_or_path)
    revisions: set[int] = set()

    def lines():
        count = 0
        for record in _records_between(site, first, last):
            revisions.add(record["revision"])
            yield _ndjson(record) + "\n"
            count += 1
            if progress and count % CHUNK_ROWS == 0:
                progress(CHUNK_ROWS)
        if progress and count % CHUNK_ROWS:
            progress(count % CHUNK_ROWS)

    count = writer.write_lines("records.ndjson", lines()) if first is not None else 0
    if first is None:
        writer.write_lines("records.ndjson", ())
    writer.write_json("revisions.json", _revision_documents(site, revisions))
    writer.write_json("checkpoints.json", proofs.site_checkpoints(site))
    writer.write_json("keys.json", {"keys": proofs.key_documents()})
    writer.write_json(PURGES, proofs.purge_statements(site))
    writer.write_json(COSIGNATURES, witnesses.cosignatures(site))
    return writer.close(
        {
            "site_key": site.site_key,
            "created_at": timestamp(utcnow()),
            "since": timestamp(since),
            "until": timestamp(until),
            "log_size": size,
            "export_format_version": EXPORT_FORMAT_VERSION,
            "export_fields": list(EXPORT_FIELDS),
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


def _hash_at(conn, site_id: int, position: int, column) -> str:
    return conn.scalar(
        select(column).where(ConsentRecord.site_id == site_id, ConsentRecord.position == position)
    )


def _records_between(site, first, last) -> Iterator[dict]:
    return _export_dicts(site.site_key, stream_rows(site.id, DB_EXPORT_COLUMNS, first, last))


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


def verify_rows(site_id: int, first: int | None = None) -> Iterator[tuple]:
    """The rows the chain verifier reads (proof/verify.py VERIFY_COLUMNS)."""
    return stream_rows(site_id, VERIFY_COLUMNS, first=first, canonical=True)
