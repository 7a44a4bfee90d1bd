"""Consent records as files people read: the CSV for DPOs and the technical NDJSON.

CSV (`CSV_FORMAT_VERSION`): one readable row per record, documented in the README: what was
decided (one `choice_<category>` column per category the site has ever shown, `granted` or
`refused`), when, on which banner, by which device, from where. No salt and no hashes: those
serve the proof, and live in the NDJSON export (every field, schemas/export.py) and the proof
bundle (services/bundles.py), which is what an auditor verifies.

Both stream at constant memory at over 50,000 records/s: rows go from the driver to the
writer as tuples, and what depends only on a record's `choices` or `allowed_kinds` text (a
site has few distinct ones) is worked out once per distinct value.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from itertools import islice

import orjson
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision
from cmp_server.proof.layout import EXPORT_FIELDS, JSON_FIELDS
from cmp_server.schemas.export import CSV_FORMAT_VERSION, EXPORT_FORMAT_VERSION
from cmp_server.services.csv_cells import safe_cell
from cmp_server.services.record_rows import DB_EXPORT_COLUMNS, stream_rows

CHUNK_ROWS = 1000
CHOICE_PREFIX = "choice_"
GRANTED, REFUSED = "granted", "refused"
# The CSV's columns around the per-category ones (see the README's export section).
CSV_LEADING = ("site_key", "position", "received_at", "expires_at", "entry_type", "action")
CSV_TRAILING = (
    "allowed_kinds",
    "revision",
    "regime",
    "gpc",
    "consent_id",
    "device_id",
    "language",
    "page_url",
    "country",
    "browser",
    "os",
    "device_type",
    "ip_truncated",
    "client_ts",
    "erased_at",
    "details",
)
# The database columns a CSV row is made of, in an order that keeps the row's slices whole.
_CSV_QUERY = (
    *CSV_LEADING[1:],
    "choices",
    *CSV_TRAILING[:3],
    "gpc",
    *CSV_TRAILING[4:-1],
)
_CHOICES_AT = _CSV_QUERY.index("choices")
_KINDS_AT = _CSV_QUERY.index("allowed_kinds")
_GPC_AT = _CSV_QUERY.index("gpc")
_ENTRY_AT = _CSV_QUERY.index("entry_type")
# Cells of a CSV row that hold text from outside a fixed format (a visitor's User-Agent, the
# page URL, ...): made safe for spreadsheets by the query (services/csv_cells.py's rule).
_TEXT_CELLS = frozenset(
    ("action", "regime", "language", "page_url", "country", "browser", "os", "device_type")
) | {"ip_truncated"}
_YES_NO = {True: "yes", False: "no"}  # also 1/0, SQLite's booleans
_BOOL = {True: True, False: False}  # SQLite's 1/0 to booleans


def site_categories(site_id: int) -> list[str]:
    """Every category key the site's published revisions have shown, in order of first
    appearance: the CSV's `choice_<key>` columns."""
    keys: dict[str, None] = {}
    texts = db.session.scalars(
        select(Revision.canonical_json).where(Revision.site_id == site_id).order_by(Revision.number)
    )
    for text in texts:
        for category in json.loads(text).get("categories", []):
            keys.setdefault(category["key"], None)
    return list(keys)


def csv_header(categories: list[str]) -> tuple[str, ...]:
    return (*CSV_LEADING, *(CHOICE_PREFIX + key for key in categories), *CSV_TRAILING)


def stream_csv(site, since=None, until=None, *, progress=None) -> Iterator[str]:
    """The site's records as CSV text chunks for DPOs: the header (`csv_header`), then one
    row per record. The site's id, key and categories are read now, not when the body streams:
    a streamed response outlives the request's session."""
    categories = site_categories(site.id)
    return _csv_chunks(site.id, site.site_key, categories, since, until, progress)


def _cached(make: Callable) -> Callable:
    """`make(text)` remembered per distinct text (a site has few distinct values)."""
    cache: dict = {}

    def get(text):
        value = cache.get(text)
        if value is None:
            if len(cache) > 10_000:
                cache.clear()
            value = cache[text] = make(text)
        return value

    return get


def _csv_chunks(site_id, site_key, categories, since, until, progress) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header(categories))
    blank = ("",) * len(categories)

    def choice_cells(text):  # a consent's choices, one cell per category
        choices = json.loads(text)
        return tuple(
            "" if key not in choices else GRANTED if choices[key] else REFUSED for key in categories
        )

    choices_of = _cached(choice_cells)
    kinds_of = _cached(lambda text: " ".join(json.loads(text)))
    site_cell = safe_cell(site_key)
    filters = {"since": since, "until": until}
    rows = stream_rows(site_id, _CSV_QUERY, filters=filters, raw=True, safe=_TEXT_CELLS)
    C, K, G = _CHOICES_AT, _KINDS_AT, _GPC_AT

    def csv_rows():
        for r in rows:
            if r[_ENTRY_AT] == "consent":
                cells, details = choices_of(r[C]), ""
            else:  # an erasure or purge entry: its choices are the entry's details
                cells, details = blank, r[C]
            yield (
                site_cell,
                *r[:C],
                *cells,
                kinds_of(r[K]),
                *r[K + 1 : G],
                _YES_NO[r[G]],
                *r[G + 1 :],
                details,
            )

    chunks = csv_rows()
    while chunk := list(islice(chunks, CHUNK_ROWS)):
        writer.writerows(chunk)
        yield _take(buffer)
        if progress:
            progress(len(chunk))
    if buffer.tell():  # the header of an empty export
        yield _take(buffer)


def stream_ndjson(site, since=None, until=None, *, progress=None) -> Iterator[str]:
    """The site's records as NDJSON text chunks: one JSON object per line with every field of
    schemas/export.py, in EXPORT_FIELDS order, values exact (the hashes cover them). Like
    `stream_csv`, it reads the site's id and key now."""
    return _ndjson_chunks(site.id, site.site_key, since, until, progress)


def _ndjson_chunks(site_id: int, site_key: str, since, until, progress) -> Iterator[str]:
    filters = {"since": since, "until": until}
    rows = stream_rows(site_id, DB_EXPORT_COLUMNS, filters=filters, raw=True)
    salt_at = DB_EXPORT_COLUMNS.index("salt")
    gpc_at = DB_EXPORT_COLUMNS.index("gpc")
    json_at = [i for i, name in enumerate(DB_EXPORT_COLUMNS) if name in JSON_FIELDS]
    dumps, fields, fragment = orjson.dumps, EXPORT_FIELDS, orjson.Fragment
    # JSON columns arrive as text: each distinct text is made compact once and then written
    # as it is (a site has few distinct `choices`).
    compact = _cached(lambda text: fragment(dumps(orjson.loads(text))))

    def lines():
        for row in rows:
            values = [site_key, *row]
            salt = row[salt_at]
            if salt is not None:
                values[salt_at + 1] = salt.hex()
            values[gpc_at + 1] = _BOOL[row[gpc_at]]
            for i in json_at:
                values[i + 1] = compact(row[i])
            # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does
            # for these values (no floats), several times faster.
            yield dumps(dict(zip(fields, values, strict=True)))

    chunks = lines()
    while chunk := list(islice(chunks, CHUNK_ROWS)):
        chunk.append(b"")
        yield b"\n".join(chunk).decode()
        if progress:
            progress(len(chunk) - 1)


def _take(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def export_headers(site_key: str, fmt: str) -> dict:
    """HTTP headers for an export download (the admin API uses these)."""
    media = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}[fmt]
    version = CSV_FORMAT_VERSION if fmt == "csv" else EXPORT_FORMAT_VERSION
    return {
        "Content-Type": media,
        "Content-Disposition": f'attachment; filename="accord-{site_key}-consents.{fmt}"',
        "X-Accord-Export-Version": str(version),
    }
