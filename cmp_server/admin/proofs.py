"""Console pages of the proofs: search, one record, export and log verification (DPO, admin)."""

from flask import Response, render_template, request, stream_with_context

from cmp_server.admin.access import record, requires, site_for
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import ActionForm
from cmp_server.admin.params import parse_moment, parse_page
from cmp_server.extensions import db
from cmp_server.services import records, screenshots, verification
from cmp_server.services.errors import InvalidInput, NotFound

EXPORT_FORMATS = ("csv", "ndjson")


def search_args(args) -> dict:
    return {
        "consent_id": (args.get("consent_id") or "").strip() or None,
        "device_id": (args.get("device_id") or "").strip() or None,
        "since": parse_moment(args.get("since"), "since"),
        "until": parse_moment(args.get("until"), "until", end=True),
    }


@bp.get("/sites/<site_key>/proofs")
@requires("proofs")
def site_proofs(site_key):
    site = site_for(site_key)
    criteria = search_args(request.args)
    page = parse_page(request.args.get("page"))
    rows, has_next = records.search_records(site, page=page, **criteria)
    query = {k: request.args.get(k, "") for k in ("consent_id", "device_id", "since", "until")}
    return render_template(
        "admin/proofs.html", site=site, rows=rows, page=page, has_next=has_next, query=query
    )


@bp.get("/sites/<site_key>/proofs/<int(max=9223372036854775807):position>")
@requires("proofs")
def proof_record(site_key, position):
    site = site_for(site_key)
    consent = records.get_record(site, position)
    seen = records.revision_seen(site, consent)
    return render_template(
        "admin/proof.html",
        site=site,
        consent=consent,
        fields=records.record_dict(consent),
        time_fields=records.TIME_FIELDS,
        seen=seen,
        shots=screenshots.screenshots_of(site, seen["number"], seen["language"]) if seen else [],
        shots_run=screenshots.run_of(site, seen["number"]) if seen else None,
        verification=verification.verify_record(site, consent),
    )


@bp.get("/sites/<site_key>/screenshots/<int(max=9223372036854775807):shot_id>.png")
@requires("proofs")
def revision_screenshot(site_key, shot_id):
    """One PNG of what a revision looked like (services/screenshots.py)."""
    site = site_for(site_key)
    shot = screenshots.screenshot_png(site, shot_id)
    if shot is None:
        raise NotFound(f"No screenshot {shot_id} for this site.", code="unknown_screenshot")
    response = Response(shot.png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["ETag"] = f'"{shot.sha256}"'
    return response


def export_response(site, fmt: str, since, until):
    """A streamed download of the site's proofs (constant memory), audited."""
    from cmp_server.services import exports

    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("format must be csv or ndjson.", fields={"format": ["csv or ndjson"]})
    record(
        "consents.export",
        site_key=site.site_key,
        target=fmt,
        details={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    db.session.commit()
    stream = exports.stream_csv if fmt == "csv" else exports.stream_ndjson
    response = Response(stream_with_context(stream(site, since=since, until=until)))
    for name, value in exports.export_headers(site.site_key, fmt).items():
        response.headers[name] = value
    return response


@bp.get("/sites/<site_key>/proofs/export")
@requires("proofs")
def proofs_export(site_key):
    site = site_for(site_key)
    return export_response(
        site,
        request.args.get("format", "csv"),
        parse_moment(request.args.get("since"), "since"),
        parse_moment(request.args.get("until"), "until", end=True),
    )


@bp.route("/sites/<site_key>/verify", methods=["GET", "POST"])
@requires("verify")
def site_verify(site_key):
    from cmp_server.services import witnesses

    site = site_for(site_key)
    form = ActionForm()
    result = None
    if form.validate_on_submit():
        result = verification.verify_site(site)  # the chain, then the witnesses
        record("proofs.verify", site_key=site.site_key, details=dict(result))
        db.session.commit()
    return render_template(
        "admin/verify.html",
        site=site,
        form=form,
        result=result,
        witnesses=witnesses.status(site),
    )
