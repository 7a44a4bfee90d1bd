"""Streaming a site's consent records out of the database as plain rows, in position order.

The CSV and NDJSON exports, proof bundles and the live chain verification all read through
`stream_rows`. A million records must stream at constant memory and well over 50,000
records/s, so rows are read with plain SQL through a server-side cursor (PostgreSQL) or
SQLite's incremental fetch, without ORM objects; the database formats times in the one text
form hashes use (`log.timestamp`), so no Python datetime is made per row.
"""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Site
from cmp_server.proof.canonical import fast_canonical_bytes
from cmp_server.proof.layout import EXPORT_FIELDS, JSON_FIELDS, TIME_FIELDS, VERIFY_COLUMNS
from cmp_server.proof.templates import CanonicalJSON
from cmp_server.services.csv_cells import FORMULA_STARTS

DB_EXPORT_COLUMNS = EXPORT_FIELDS[1:]  # all but site_key, which is the same on every row
_SALT_AT = EXPORT_FIELDS.index("salt")


def _column_sql(name: str, dialect: str, safe: frozenset = frozenset()) -> str:
    if name in safe:  # services/csv_cells.py's rule, applied by the database (no per-cell call)
        starts = ", ".join(f"'{c}'" for c in FORMULA_STARTS)
        quote = "''''"  # the SQL literal of one quote
        return (
            f"CASE WHEN substr({name}, 1, 1) IN ({starts}) THEN {quote} || {name} ELSE {name} END"
        )
    if name in TIME_FIELDS:
        if dialect == "postgresql":
            return f"""to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (always 6 digits).
        return f"replace({name}, ' ', 'T') || 'Z'"
    if name in JSON_FIELDS and dialect == "postgresql":
        return f"{name}::text"  # parsed once per distinct value below, not once per row
    return name


class Cells(tuple):
    """A column of `stream_rows` that is several record fields as one text, joined by the
    database with CELL_SEPARATOR (the CSV export's plain cells): integers in decimal, times as
    in `_column_sql`, `gpc` as yes/no, null as empty. Cells are not CSV-quoted, so the caller
    checks what they hold."""

    __slots__ = ()


CELL_SEPARATOR = "\x1f"  # ASCII's unit separator: no field of an ordinary record holds it


def _cell_sql(name: str, dialect: str, safe: frozenset) -> str:
    if name == "gpc":
        return "CASE WHEN gpc THEN 'yes' ELSE 'no' END"
    if name in ("position", "revision"):
        return f"CAST({name} AS TEXT)"
    return f"coalesce({_column_sql(name, dialect, safe)}, '')"


def _select_sql(column, dialect: str, safe: frozenset) -> str:
    if isinstance(column, Cells):
        separator = " || chr(31) || " if dialect == "postgresql" else " || char(31) || "
        return separator.join(_cell_sql(name, dialect, safe) for name in column)
    return _column_sql(column, dialect, safe)


def _adapter(columns: tuple[str, ...], canonical: bool = False) -> Callable:
    """Python fix-ups of a raw row: JSON arrives as text (parsed through a small cache: a site
    has few distinct `choices`, so most rows cost a dict lookup) and SQLite booleans as 0/1.
    With `canonical`, JSON values come out as their RFC 8785 text (CanonicalJSON), which is
    what the chain verifier hashes."""
    json_at = [i for i, c in enumerate(columns) if c in JSON_FIELDS]
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
    columns: tuple,
    first: int | None = None,
    last: int | None = None,
    filters: dict | None = None,
    batch: int = 5000,
    canonical: bool = False,
    raw: bool = False,
    safe: frozenset = frozenset(),
    engine=None,
) -> Iterator:
    """Rows of a site's log as sequences of `columns`, in position order, from `first` to
    `last` (inclusive) and matching `filters` (since, until, consent_id, device_id).

    Rows are adapted (`_adapter`: JSON parsed, booleans made bool) unless `raw`, when they are
    the driver's tuples (JSON as text, SQLite booleans as 0/1). Text columns in `safe` come
    out safe for spreadsheets (`csv_cells.safe_cell`, done in SQL); a `Cells` column is several
    fields joined into one text by the database. Uses the driver's cursor
    directly (a named, server-side cursor on PostgreSQL): SQLAlchemy's result layer would
    cost more per row than the verification itself. `engine` is the app's unless given (a
    process without the app: services/split_verify.py)."""
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    with (engine or db.engine).connect() as conn:
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
            f"SELECT {', '.join(_select_sql(c, dialect, safe) for c in columns)} "  # noqa: S608
            f"FROM consent_records WHERE {' AND '.join(where)} ORDER BY position"
        )
        driver = conn.connection.driver_connection
        assert driver is not None  # an open connection
        if dialect == "postgresql":
            cursor = driver.cursor(name="accord_stream")
            cursor.itersize = batch
        else:
            cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            adapt = None if raw else _adapter(columns, canonical)
            while rows := cursor.fetchmany(batch):
                if adapt is None:
                    yield from rows
                else:
                    yield from map(adapt, rows)
        finally:
            cursor.close()
            if dialect == "postgresql":
                driver.rollback()  # end the read transaction the named cursor lived in


def verify_rows(
    site_id: int, first: int | None = None, last: int | None = None, engine=None
) -> Iterator:
    """The rows the chain verifier reads (proof/layout.py VERIFY_COLUMNS)."""
    return stream_rows(
        site_id, VERIFY_COLUMNS, first=first, last=last, canonical=True, engine=engine
    )


def export_dicts(site_key: str, rows) -> Iterator[dict]:
    """Rows of DB_EXPORT_COLUMNS as exported records (EXPORT_FIELDS, JSON-ready values)."""
    for row in rows:
        values = [site_key, *row]
        if values[_SALT_AT] is not None:
            values[_SALT_AT] = values[_SALT_AT].hex()
        yield dict(zip(EXPORT_FIELDS, values, strict=True))


def iter_records(
    site_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    consent_id: str | None = None,
    device_id: str | None = None,
) -> Iterator[dict]:
    """Exported records (EXPORT_FIELDS, JSON-ready values) in position order."""
    site_key = str(db.session.scalar(select(Site.site_key).where(Site.id == site_id)))
    filters = {"since": since, "until": until, "consent_id": consent_id, "device_id": device_id}
    return export_dicts(site_key, stream_rows(site_id, DB_EXPORT_COLUMNS, filters=filters))
