"""The Scans page of a site: start a scan (marketers, admins), read the history and each
report (every role), and add an undeclared finding to the draft in one click."""

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange

from cmp_server.admin.access import acting, can, refusal, requires, site_for, staff
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import apply_errors
from cmp_server.extensions import db
from cmp_server.scanner import declare, jobs, service
from cmp_server.services import sites
from cmp_server.services.errors import NotFound, ServiceError


class ScanForm(FlaskForm):
    url = StringField("Page to scan", validators=[DataRequired()])
    pages = IntegerField(
        "More pages to visit", default=5, validators=[NumberRange(0, service.MAX_PAGES)]
    )


class DeclareForm(FlaskForm):
    category = SelectField("Purpose", choices=[])


def default_url(site) -> str:
    origin = next((o for o in site.origins if "*" not in o), "")
    return origin + "/" if origin else ""


@bp.route("/sites/<site_key>/scans", methods=["GET", "POST"])
@requires("view_scans")
def site_scans(site_key):
    site = site_for(site_key)
    form = ScanForm(url=default_url(site))
    if form.validate_on_submit():
        if not can(staff(), "scan"):
            raise refusal(staff(), "scan")
        try:
            scan = service.queue_scan(site, form.url.data.strip(), form.pages.data, acting())
        except ServiceError as exc:
            apply_errors(form, exc, {"url": "url", "pages": "pages"})
        else:
            db.session.commit()
            jobs.enqueue_scan(scan.id)
            flash("The scan is queued: this page follows its progress.", "success")
            return redirect(url_for("admin.site_scan", site_key=site.site_key, scan_id=scan.id))
    history = service.list_scans(site)
    return render_template(
        "admin/scans.html",
        site=site,
        form=form,
        scans=history,
        running=any(s.status in ("queued", "running") for s in history),
    )


@bp.get("/sites/<site_key>/scans/<int:scan_id>")
@requires("view_scans")
def site_scan(site_key, scan_id):
    site = site_for(site_key)
    scan = service.get_scan(site, scan_id)
    report = service.report_of(scan)
    categories = sites.export_site(site)["categories"]
    forms = {}
    if report and can(staff(), "edit_config"):
        for index, finding in enumerate(report["findings"]):
            if finding["declared"] is None and not service.is_accord_finding(finding):
                form = DeclareForm(prefix=f"f{index}")
                form.category.choices = [(c["key"], c["key"]) for c in categories]
                form.category.data = declare.suggest_category(finding, categories)
                forms[index] = form
    return render_template("admin/scan.html", site=site, scan=scan, report=report, forms=forms)


@bp.post("/sites/<site_key>/scans/<int:scan_id>/findings/<int:index>/declare")
@requires("edit_config")
def declare_finding(site_key, scan_id, index):
    site = site_for(site_key)
    report = service.report_of(service.get_scan(site, scan_id))
    if report is None or not 0 <= index < len(report["findings"]):
        raise NotFound("No such finding.", code="unknown_finding")
    form = DeclareForm(prefix=f"f{index}")
    form.category.choices = [(c.key, c.key) for c in site.categories]
    if form.validate_on_submit():
        tracker = declare.declare_finding(
            site, report["findings"][index], form.category.data, acting()
        )
        db.session.commit()
        flash(
            f"“{tracker['name']}” added to the draft in {form.category.data}: check it, then "
            "publish.",
            "success",
        )
    return redirect(url_for("admin.site_scan", site_key=site.site_key, scan_id=scan_id))


@bp.app_context_processor
def scan_notice_helper():
    """`scan_notices(site, publishing=False)` for the dashboard and publish templates."""
    return {"scan_notices": service.scan_notices}
