"""Consent records as files people read: the CSV for DPOs and the technical NDJSON.

CSV (`CSV_FORMAT_VERSION`): one readable row per record, documented in the README: what was
decided (one `choice_<category>` column per category the site has ever shown, `granted` or
`refused`), when, on which banner, by which device, from where. No salt and no hashes: those
serve the proof, and live in the NDJSON export (every field, schemas/export.py) and the proof
bundle (services/bundles.py), which is what an auditor verifies.

Both stream at constant memory: rows go from the driver's cursor to the writer as tuples,
and what depends only on a record's `choices` or `allowed_kinds` text (a site has few
distinct ones) is worked out once per distinct value. For the CSV the database also joins
each row's plain cells into two texts, so Python handles five values a row, not thirty.
"""

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from itertools import islice

import orjson
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import Revision
from cmp_server.proof.layout import EXPORT_FIELDS, JSON_FIELDS
from cmp_server.schemas.export import CSV_FORMAT_VERSION, EXPORT_FORMAT_VERSION
from cmp_server.services.csv_cells import safe_cell
from cmp_server.services.record_rows import CELL_SEPARATOR as SEP
from cmp_server.services.record_rows import DB_EXPORT_COLUMNS, Cells, stream_rows

CHUNK_ROWS = 1000
_NEEDS_QUOTES = re.compile('[,"\r\n]')  # a cell holding one of these is quoted
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
# The same row as the database joins it: the plain cells before and after the choices.
_CSV_JOINED = (
    Cells(CSV_LEADING[1:]),
    "entry_type",
    "choices",
    "allowed_kinds",
    Cells(CSV_TRAILING[1:-1]),
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
    """Most rows are written without the csv module: the database joins each row's plain cells
    (`record_rows.Cells`), and when none holds a comma, quote or line break, joining them with
    commas is exactly what csv.writer would write (an erasure or purge entry's `details`, JSON,
    is quoted by csv.writer alone). A row with such a cell is split at the separators and
    written by csv.writer; one whose cells hold the separator itself is read again by
    position, as separate cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = csv_header(categories)
    writer.writerow(header)
    spell = _CsvSpeller(site_key, categories)

    def choice_text(text):  # a consent's choice cells, each followed by its comma
        return "".join(cell + "," for cell in spell.choice_cells(text))

    choices_of = _cached(choice_text)
    kinds_of = spell.kinds_of
    blank = "," * len(categories)
    site_cell = safe_cell(site_key)
    head_cells, tail_cells = len(_CSV_JOINED[0]) - 1, len(_CSV_JOINED[-1]) - 1
    filters = {"since": since, "until": until}
    rows = stream_rows(site_id, _CSV_JOINED, filters=filters, raw=True, safe=_TEXT_CELLS)

    def quoted(cell: str) -> str:  # one non-empty cell as csv.writer writes it
        writer.writerow((cell,))
        return _take(buffer)[:-2]

    def lines():
        for head, entry_type, choices, kinds, tail in rows:
            if entry_type == "consent":
                cells, details = choices_of(choices), ""
            else:  # an erasure or purge entry: its choices are the entry's details
                cells, details = blank, quoted(choices)
            whole = head.count(SEP) == head_cells and tail.count(SEP) == tail_cells
            if whole and _NEEDS_QUOTES.search(head) is None and _NEEDS_QUOTES.search(tail) is None:
                head, tail = head.replace(SEP, ","), tail.replace(SEP, ",")
                yield f"{site_cell},{head},{cells}{kinds_of(kinds)},{tail},{details}"
                continue
            if whole:
                kinds_cell = kinds_of(kinds)
                writer.writerow(
                    (site_cell, *head.split(SEP), *cells.split(",")[:-1], kinds_cell)
                    + (*tail.split(SEP), "" if entry_type == "consent" else choices)
                )
            else:
                position = int(head.split(SEP, 1)[0])
                writer.writerows(map(spell.row, _csv_cells(site_id, position)))
            yield _take(buffer)[:-2]  # its line terminator is added below, like the others'

    chunks = lines()
    yield _take(buffer)  # the header
    while chunk := list(islice(chunks, CHUNK_ROWS)):
        chunk.append("")
        yield "\r\n".join(chunk)
        if progress:
            progress(len(chunk) - 1)


class _CsvSpeller:
    """A record's CSV cells from its separate columns (`_CSV_QUERY`), for csv.writer."""

    def __init__(self, site_key: str, categories: list[str]):
        self.site_cell = safe_cell(site_key)
        self.categories = categories
        self.blank = ("",) * len(categories)
        self.choice_cells = _cached(self._choice_cells)
        self.kinds_of = _cached(lambda text: " ".join(json.loads(text)))

    def _choice_cells(self, text: str) -> tuple[str, ...]:  # one cell per category
        choices = json.loads(text)
        return tuple(
            "" if key not in choices else GRANTED if choices[key] else REFUSED
            for key in self.categories
        )

    def row(self, r) -> tuple:
        C, K, G = _CHOICES_AT, _KINDS_AT, _GPC_AT
        if r[_ENTRY_AT] == "consent":
            cells, details = self.choice_cells(r[C]), ""
        else:  # an erasure or purge entry: its choices are the entry's details
            cells, details = self.blank, r[C]
        return (
            self.site_cell,
            *r[:C],
            *cells,
            self.kinds_of(r[K]),
            *r[K + 1 : G],
            _YES_NO[r[G]],
            *r[G + 1 :],
            details,
        )


def _csv_cells(site_id: int, position: int) -> Iterator:
    """The record at `position` as separate columns (`_CSV_QUERY`), cells safe."""
    return stream_rows(
        site_id, _CSV_QUERY, first=position, last=position, raw=True, safe=_TEXT_CELLS
    )


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
