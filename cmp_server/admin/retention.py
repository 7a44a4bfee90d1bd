"""Console pages of a site's retention: how long proofs are kept, legal hold, purge now."""

from flask import flash, redirect, render_template, request, url_for

from cmp_server.admin.access import (
    acting,
    requires,
    site_for,
)
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import (
    ActionForm,
    RetentionForm,
)
from cmp_server.extensions import db
from cmp_server.services import retention, sites


@bp.route("/sites/<site_key>/retention", methods=["GET", "POST"])
@requires("retention")
def site_retention(site_key):
    site = site_for(site_key)
    form = RetentionForm()
    if request.method == "GET":
        form.retention_days.data = site.retention_days
        form.legal_hold.data = site.legal_hold
    elif form.validate_on_submit():
        sites.set_retention(site, form.retention_days.data, form.legal_hold.data, acting())
        db.session.commit()
        flash("Retention saved.", "success")
        return redirect(url_for("admin.site_retention", site_key=site.site_key))
    due = retention.purge_site(site, dry_run=True)
    db.session.rollback()
    return render_template(
        "admin/site_retention.html", site=site, form=form, due=due, action_form=ActionForm()
    )


@bp.post("/sites/<site_key>/purge")
@requires("retention")
def site_purge(site_key):
    """Run the retention purge for this site now (the same as `accord purge --site`)."""
    site = site_for(site_key)
    if ActionForm().validate_on_submit():
        outcome = retention.purge_site(site, actor=acting())
        db.session.commit()
        flash(f"Purge done: {outcome.deleted} expired records removed.", "success")
    return redirect(url_for("admin.site_retention", site_key=site.site_key))
