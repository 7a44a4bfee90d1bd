"""The export format of consent records: CSV, NDJSON and the records of a proof bundle.

A contract with DPOs, auditors and their tools: the fields and their order change only with
`EXPORT_FORMAT_VERSION` (a snapshot test holds them). Every export carries what it takes to
re-compute each record's hash (`salt`, `personal_digest`, `prev_hash`), so an export can be
checked against the chain without the database.

Values: times are UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `choices` an object of booleans
(for `erasure`/`purge` entries, the entry's details); `allowed_kinds` a list; `salt` hex; in
CSV, objects and lists are canonical JSON, booleans `true`/`false`, null an empty cell, and a
text cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab
or a carriage return) gets a leading `'` (services/csv_cells.py); NDJSON keeps exact values.
Erased records keep their chain fields and lose their personal fields (null) and salt.
"""

from marshmallow import Schema, fields

EXPORT_FORMAT_VERSION = 1
EXPORT_FIELDS = (
    "site_key",
    "position",
    "entry_type",
    "consent_id",
    "device_id",
    "received_at",
    "expires_at",
    "revision",
    "revision_hash",
    "action",
    "choices",
    "allowed_kinds",
    "regime",
    "gpc",
    "language",
    "page_url",
    "country",
    "browser",
    "os",
    "device_type",
    "ip_truncated",
    "client_ts",
    "erased_at",
    "salt",
    "personal_digest",
    "prev_hash",
    "record_hash",
)


class ExportRecordSchema(Schema):
    """One exported record (documentation and OpenAPI; exports are written without it, for
    speed, and a test checks both agree)."""

    class Meta:
        ordered = True

    site_key = fields.String()
    position = fields.Integer()
    entry_type = fields.String(metadata={"description": "consent, erasure or purge"})
    consent_id = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    received_at = fields.String()
    expires_at = fields.String()
    revision = fields.Integer()
    revision_hash = fields.String()
    action = fields.String()
    choices = fields.Dict()
    allowed_kinds = fields.List(fields.String())
    regime = fields.String()
    gpc = fields.Boolean()
    language = fields.String(allow_none=True)
    page_url = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    browser = fields.String(allow_none=True)
    os = fields.String(allow_none=True)
    device_type = fields.String(allow_none=True)
    ip_truncated = fields.String(allow_none=True)
    client_ts = fields.String(allow_none=True)
    erased_at = fields.String(allow_none=True)
    salt = fields.String(allow_none=True, metadata={"description": "hex; null once erased"})
    personal_digest = fields.String()
    prev_hash = fields.String()
    record_hash = fields.String()
