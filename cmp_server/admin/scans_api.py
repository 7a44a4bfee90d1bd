"""Scans on the admin API: start one (marketers, admins), read its status and report (every
role). The scan itself runs in `accord worker`."""

from flask import request

from cmp_server.admin.access import acting, requires, site_for
from cmp_server.admin.blueprint import api_bp
from cmp_server.extensions import db
from cmp_server.scanner import jobs, service
from cmp_server.schemas.scan import ScanSchema, ScanStartSchema
from cmp_server.services.errors import Conflict, InvalidInput, UnsupportedMediaType

scan_out = ScanSchema()
scan_in = ScanStartSchema()


@api_bp.post("/sites/<site_key>/scans")
@requires("scan")
def scan_start(site_key):
    site = site_for(site_key)
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The body must be one JSON object.")
    data = scan_in.load(body)
    scan = service.queue_scan(site, data["url"], data["pages"], acting())
    db.session.commit()
    jobs.enqueue_scan(scan.id)
    return scan_out.dump(scan), 202


@api_bp.get("/sites/<site_key>/scans")
@requires("view_scans")
def scan_list(site_key):
    return {"scans": scan_out.dump(service.list_scans(site_for(site_key)), many=True)}


@api_bp.get("/sites/<site_key>/scans/<int:scan_id>")
@requires("view_scans")
def scan_status(site_key, scan_id):
    return scan_out.dump(service.get_scan(site_for(site_key), scan_id))


@api_bp.get("/sites/<site_key>/scans/<int:scan_id>/report")
@requires("view_scans")
def scan_report(site_key, scan_id):
    scan = service.get_scan(site_for(site_key), scan_id)
    report = service.report_of(scan)
    if report is None:
        raise Conflict(f"Scan {scan_id} has no report: it is {scan.status}.", code="scan_not_done")
    return report


def add_scan_paths(spec, op, site_param) -> dict:
    """The scan operations for the OpenAPI document (`op` is admin/openapi.py's `_op`)."""
    for name, schema in (("AdminScan", ScanSchema), ("AdminScanStart", ScanStartSchema)):
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
    if "AdminScanReport" not in spec.components.schemas:
        from cmp_server.schemas.scan import ScanReportSchema

        spec.components.schema("AdminScanReport", schema=ScanReportSchema)
    editors, everyone = ("admin", "marketer"), ("admin", "marketer", "dpo")
    scan_id = {"name": "scan_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    scans = {"type": "object", "properties": {"scans": {"type": "array", "items": "AdminScan"}}}
    return {
        "/sites/{site_key}/scans": {
            "parameters": [site_param],
            "get": op("The site's scans, newest first", 200, scans, (404,), everyone),
            "post": op(
                "Queue a scan of a page of one of the site's origins (run by `accord worker`)",
                202,
                "AdminScan",
                (400, 404, 415),
                editors,
                body="AdminScanStart",
            ),
        },
        "/sites/{site_key}/scans/{scan_id}": {
            "parameters": [site_param, scan_id],
            "get": op("A scan's status and progress", 200, "AdminScan", (404,), everyone),
        },
        "/sites/{site_key}/scans/{scan_id}/report": {
            "parameters": [site_param, scan_id],
            "get": op(
                "A finished scan's report (409 scan_not_done before)",
                200,
                "AdminScanReport",
                (404, 409),
                everyone,
            ),
        },
    }
