"""Console pages for sites: the list, a new site, the overview, settings and the whole
draft as JSON. The draft's parts have their pages in draft.py, retention in retention.py."""

import json

from flask import flash, redirect, render_template, request, url_for

from cmp_server.admin.access import (
    acting,
    can,
    requires,
    site_for,
    staff,
    visible_sites,
)
from cmp_server.admin.blueprint import bp
from cmp_server.admin.draft import save_draft, save_from_form
from cmp_server.admin.forms import (
    ActionForm,
    JsonConfigForm,
    SiteCreateForm,
    SiteSettingsForm,
    apply_errors,
    lines,
)
from cmp_server.extensions import db
from cmp_server.services import publishing, revisions, sites, timefmt
from cmp_server.services.errors import InvalidInput, ServiceError


@bp.get("/")
@requires("view_sites")
def home():
    return redirect(url_for("admin.site_list"))


@bp.get("/sites")
@requires("view_sites")
def site_list():
    rows = [(site, revisions.published_revision(site)) for site in visible_sites()]
    return render_template("admin/sites.html", rows=rows, form=SiteCreateForm())


@bp.post("/sites")
@requires("create_site")
def site_create():
    form = SiteCreateForm()
    if form.validate_on_submit():
        try:
            site = sites.create_site(form.name.data, lines(form.origins.data), acting())
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Site “{site.name}” created. Add its purposes, then publish.", "success")
            return redirect(url_for("admin.site_overview", site_key=site.site_key))
    rows = [(site, revisions.published_revision(site)) for site in visible_sites()]
    return render_template("admin/sites.html", rows=rows, form=form), 400


@bp.get("/sites/<site_key>")
@requires("view_sites")
def site_overview(site_key):
    site = site_for(site_key)
    return render_template(
        "admin/site.html",
        site=site,
        published=revisions.published_revision(site),
        check=publishing.preview(site),
        can_edit=can(staff(), "edit_config"),
        action_form=ActionForm(),
    )


@bp.route("/sites/<site_key>/settings", methods=["GET", "POST"])
@requires("edit_config")
def site_settings(site_key):
    site = site_for(site_key)
    form = SiteSettingsForm()
    if request.method == "GET":
        form.name.data = site.name
        form.origins.data = "\n".join(site.origins)
        form.languages.data = ", ".join(site.languages)
        form.default_language.data = site.default_language
        form.privacy_policy_url.data = site.privacy_policy_url or ""
        form.consent_lifetime_days.data = site.consent_lifetime_days
        form.regimes.data = "\n".join(f"{k}={v}" for k, v in site.regimes.items())
        form.time_zone.data = site.time_zone
    elif form.validate_on_submit():
        data = sites.export_site(site)
        regimes = {}
        for line in lines(form.regimes.data):
            region, _, regime = line.partition("=")
            regimes[region.strip()] = regime.strip()
        languages = lines(form.languages.data)
        data.update(
            name=form.name.data,
            origins=lines(form.origins.data),
            languages=languages,
            default_language=form.default_language.data.strip(),
            privacy_policy_url=form.privacy_policy_url.data.strip() or None,
            consent_lifetime_days=form.consent_lifetime_days.data,
            regimes=regimes,
            time_zone=(form.time_zone.data or "").strip() or timefmt.DEFAULT_ZONE,
        )
        # Texts of a language no longer offered would make the document invalid: drop them.
        data["texts"] = {k: v for k, v in data["texts"].items() if k in languages}
        saved = save_from_form(
            site,
            data,
            "settings",
            form,
            "Settings saved to the draft.",
            url_for("admin.site_overview", site_key=site.site_key),
        )
        if saved:
            return saved
    status = 400 if request.method == "POST" else 200
    return (
        render_template("admin/site_settings.html", site=site, form=form, zones=zone_choices()),
        status,
    )


def zone_choices() -> list[str]:
    """The time zone names the settings field suggests, sorted."""
    return sorted(timefmt.known_zones())


@bp.route("/sites/<site_key>/json", methods=["GET", "POST"])
@requires("edit_config")
def site_json(site_key):
    """The whole draft as the import/export JSON document, for bulk edits."""
    site = site_for(site_key)
    form = JsonConfigForm()
    status = 200
    if request.method == "GET":
        form.document.data = json.dumps(sites.export_site(site), indent=2, ensure_ascii=False)
    elif form.validate_on_submit():
        try:
            data = json.loads(form.document.data)
            if not isinstance(data, dict):
                raise InvalidInput("The document must be one JSON object.")
            save_draft(site, data, "json")
        except json.JSONDecodeError as exc:
            form.document.errors = [f"Not valid JSON: {exc}"]
        except ServiceError as exc:
            apply_errors(form, exc)
            status = exc.status  # 403: retention is not the editor's to change
        else:
            flash("Configuration saved to the draft.", "success")
            return redirect(url_for("admin.site_overview", site_key=site.site_key))
    return render_template("admin/site_json.html", site=site, form=form), status
