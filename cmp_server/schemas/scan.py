"""Scans on the admin API: the body that starts one, a scan's status, and the report."""

import json

from marshmallow import Schema, fields, validate

from cmp_server.scanner.browse import PHASES
from cmp_server.scanner.service import MAX_PAGES

FINDING_KINDS = ("cookie", "storage", "request", "fingerprinting")


class ScanStartSchema(Schema):
    """POST /sites/<key>/scans: a page of one of the site's origins."""

    url = fields.String(required=True, validate=validate.Length(1, 2000))
    pages = fields.Integer(strict=True, load_default=5, validate=validate.Range(0, MAX_PAGES))


class ScanSchema(Schema):
    """A scan's status; `report_hash` is the SHA-256 of the report's canonical JSON."""

    id = fields.Integer()
    url = fields.String()
    pages = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    requested_by = fields.String(allow_none=True)
    progress = fields.Dict(metadata={"description": "phase, done, total (pages)"})
    verdict = fields.String(allow_none=True, metadata={"enum": ["pass", "fail"]})
    violations = fields.Integer()
    undeclared = fields.Integer()
    report_hash = fields.String(allow_none=True)
    statement = fields.Method(
        "signed_statement",
        allow_none=True,
        metadata={"description": "the signed scan statement (README, Scanner: evidence)"},
    )
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)

    def signed_statement(self, scan) -> dict | None:
        return json.loads(scan.statement) if scan.statement else None


class FindingSchema(Schema):
    kind = fields.String(validate=validate.OneOf(FINDING_KINDS))
    name = fields.String()
    host = fields.String()
    phases = fields.List(fields.String(validate=validate.OneOf(PHASES)))
    declared = fields.Dict(allow_none=True, metadata={"description": "category, tracker"})
    known = fields.Dict(
        allow_none=True,
        metadata={"description": "platform, category, source (open-cookie-database or accord)"},
    )
    violation = fields.Boolean()


class ScanReportSchema(Schema):
    """The report of DESIGN.md ("Scanner"); findings may carry more keys (initiator, area,
    script, detail, http_only)."""

    format = fields.Integer()
    site_key = fields.String()
    url = fields.String()
    revision = fields.Integer(allow_none=True)
    started_at = fields.String()
    finished_at = fields.String()
    verdict = fields.String(validate=validate.OneOf(["pass", "fail"]))
    pages = fields.List(fields.String())
    accord_origin = fields.String()
    findings = fields.List(fields.Nested(FindingSchema))
