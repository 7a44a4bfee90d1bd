"""Preview the draft with the real snippet, and publish it.

The preview page loads the built snippet with the draft as its configuration, from this
origin and with a CSP nonce. Its decisions go to a sink that records nothing, and its
client lifetime is 0 days, so no decision is kept in the staff browser and the banner
shows on every load.
"""

import hashlib
import json

from flask import Response, flash, redirect, render_template, request, url_for

from cmp_server.admin.access import acting, requires, site_for
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import PublishForm
from cmp_server.admin.security import allow_framing_by_self, csp_nonce
from cmp_server.extensions import csrf, db
from cmp_server.services import client_config, contrast, publishing, screenshots
from cmp_server.services.errors import ServiceError
from cmp_server.services.snippet import render_snippet
from cmp_server.vocabulary import LOOK_POSITIONS, REGIMES


def _regime() -> str:
    regime = request.args.get("regime", "opt_in")
    return regime if regime in REGIMES else "opt_in"


def _look_args() -> dict:
    """The Look page's sample asks for unsaved colours (`c_<key>=#rrggbb`) and position;
    anything malformed is left out, so the draft's value shows instead."""
    args = {}
    if request.args.get("position") in LOOK_POSITIONS:
        args["position"] = request.args["position"]
    for key in contrast.COLOR_KEYS:
        value = request.args.get(f"c_{key}", "")
        if contrast.HEX_COLOR.match(value):
            args[f"c_{key}"] = value
    return args


def _look_from_args(args: dict) -> dict:
    colors = {k: args[f"c_{k}"] for k in contrast.COLOR_KEYS if f"c_{k}" in args}
    return {**({"position": args["position"]} if "position" in args else {}), "colors": colors}


@bp.get("/sites/<site_key>/preview")
@requires("preview")
def site_preview(site_key):
    site = site_for(site_key)
    lang = request.args.get("lang") or site.default_language
    if lang not in site.languages:
        lang = site.default_language
    if request.args.get("embed"):  # the Look page's sample: the banner alone, framed
        allow_framing_by_self()
        return render_template(
            "admin/preview_embed.html",
            site=site,
            lang=lang,
            look_args=_look_args(),
            nonce=csp_nonce(),
        )
    return render_template(
        "admin/preview.html",
        site=site,
        lang=lang,
        regime=_regime(),
        regimes=REGIMES,
        nonce=csp_nonce(),
        unchanged=publishing.draft_unchanged(site),
    )


@bp.get("/sites/<site_key>/preview.js")
@requires("preview")
def site_preview_script(site_key):
    site = site_for(site_key)
    api = url_for("admin.preview_sink_base")
    config = client_config.preview_config(site, _regime(), api, _look_from_args(_look_args()))
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    rendered = render_snippet(("preview", digest), lambda: config)
    response = Response(rendered.body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/preview-sink", endpoint="preview_sink_base")
def preview_sink_base():
    return Response(status=204)


@bp.post("/preview-sink/consents")
@csrf.exempt
def preview_sink():
    """Where the preview's decisions go: answered like a receipt, recorded nowhere."""
    body = request.get_data(as_text=True)[:65536]
    try:
        consent_id = json.loads(body).get("consent_id")
    except (ValueError, AttributeError):
        consent_id = None
    return {"preview": True, "recorded": False, "consent_id": consent_id}, 201


@bp.route("/sites/<site_key>/publish", methods=["GET", "POST"])
@requires("publish")
def site_publish(site_key):
    site = site_for(site_key)
    form = PublishForm()
    status = 200
    if form.validate_on_submit():
        try:
            revision = publishing.publish(
                site, True if form.requires_reconsent.data else None, acting()
            )
        except ServiceError as exc:
            db.session.rollback()
            if exc.code == "not_compliant":
                form.form_errors.append("Publishing is refused: fix the problems listed below.")
            else:
                form.form_errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(f"Revision {revision.number} is live.", "success")
            shots = screenshots.run_of(site, revision.number)
            if shots is not None and shots.status == "skipped":
                flash(f"Its screenshots were skipped: {shots.reason}.", "warning")
            return redirect(url_for("admin.site_overview", site_key=site.site_key))
    elif request.method == "POST":
        status = 400
    check = publishing.preview(site)
    if request.method == "GET":
        form.requires_reconsent.data = check.requires_reconsent
    return render_template("admin/publish.html", site=site, form=form, check=check), status
