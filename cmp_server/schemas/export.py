"""The export formats of consent records: the NDJSON export and the CSV for DPOs.

A contract with DPOs, auditors and their tools: fields and their order change only with the
format's version (a snapshot test holds them).

NDJSON (`EXPORT_FORMAT_VERSION`) carries every field of the record layout
(proof/layout.py, `EXPORT_FIELDS` in that order), including what it takes to re-compute each
record's hash (`salt`, `personal_digest`, `prev_hash`), so it can be checked against the chain
without the database. Times are UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `choices` an object of
booleans (for `erasure`/`purge` entries, the entry's details); `allowed_kinds` a list; `salt`
hex. Erased records keep their chain fields and lose their personal fields (null) and salt.

CSV (`CSV_FORMAT_VERSION`, services/exports.py) is for people: one column per category
(`choice_<key>`: granted, refused, or empty when the banner did not show it), no salt and no
hashes, booleans `yes`/`no`, null an empty cell, and a text cell that a spreadsheet would read
as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
`'` (services/csv_cells.py). Its columns are listed in the README's export section.
"""

from marshmallow import Schema, fields

from cmp_server.proof.layout import EXPORT_FIELDS, RECORD_FIELDS

EXPORT_FORMAT_VERSION = 1
CSV_FORMAT_VERSION = 2  # 1 was the NDJSON's field list as columns
__all__ = ["EXPORT_FIELDS", "EXPORT_FORMAT_VERSION", "CSV_FORMAT_VERSION", "ExportRecordSchema"]

_FIELD_TYPES = {
    "int": fields.Integer,
    "text": fields.String,
    "time": fields.String,
    "bool": fields.Boolean,
    "object": fields.Dict,
    "list": lambda **kw: fields.List(fields.String(), **kw),
}


def _schema_field(field):
    metadata = {"description": field.description} if field.description else {}
    return _FIELD_TYPES[field.kind](allow_none=field.nullable, metadata=metadata)


ExportRecordSchema = Schema.from_dict(
    {field.name: _schema_field(field) for field in RECORD_FIELDS}, name="ExportRecordSchema"
)
ExportRecordSchema.__doc__ = (
    "One exported record (documentation and OpenAPI; exports are written without it, for "
    "speed, and a test checks both agree). Its fields come from proof/layout.py."
)
