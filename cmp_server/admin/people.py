"""Console pages for staff accounts, API tokens and the audit log."""

from contextlib import suppress

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from cmp_server.admin.access import acting, audit_scope, can, requires, site_for, staff
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import (
    ActionForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
    apply_errors,
    lines,
)
from cmp_server.admin.params import parse_moment, parse_page
from cmp_server.extensions import db
from cmp_server.services import audit, audit_words, tokens
from cmp_server.services import staff as staff_service
from cmp_server.services.errors import NotFound, ServiceError


@bp.route("/users", methods=["GET", "POST"])
@requires("staff")
def users():
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = staff_service.add_user(
                form.email.data,
                form.role.data,
                form.password.data,
                lines(form.site_keys.data) or None,
                by=staff(),
                actor=acting(),
            )
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 400
        else:
            db.session.commit()
            flash(f"Account {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/users.html", users=staff_service.list_users(), form=form), status


def fill_user_form(form: UserEditForm, user) -> None:
    form.role.data = user.role
    form.site_keys.data = ", ".join(user.site_keys or [])
    form.active.data = user.active


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@requires("staff")
def user_edit(user_id):
    user = staff_service.get_user(user_id)
    form = UserEditForm()
    if request.method == "GET":
        fill_user_form(form, user)
    elif form.validate_on_submit():
        try:
            staff_service.edit_user(
                user,
                form.role.data,
                lines(form.site_keys.data) or None,
                form.active.data,
                form.new_password.data or None,
                by=staff(),
                actor=acting(),
            )
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"password": "new_password"})
        else:
            db.session.commit()
            flash(f"Account {user.email} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", user=user, form=form)


@bp.route("/tokens", methods=["GET", "POST"])
@requires("own_tokens")
def api_tokens():
    """Everyone manages their own tokens (which carry their role); an admin sees all."""
    form = TokenCreateForm()
    created = token = None
    status = 200
    if form.validate_on_submit():
        days = form.expires_in_days.data or tokens.DEFAULT_LIFETIME_DAYS  # left empty: default
        token, created = tokens.issue_token(staff(), form.name.data, days, acting())
        db.session.commit()
        form = TokenCreateForm(formdata=None)  # a cleared form for the next token
    elif request.method == "POST":
        status = 400  # the form again, with its errors, as the console's other forms do
    everyone = can(staff(), "all_tokens")
    rows = tokens.list_tokens(None if everyone else staff())
    return render_template(
        "admin/tokens.html",
        form=form,
        rows=rows,
        created=created,
        new_token=token,
        everyone=everyone,
        action_form=ActionForm(),
        token_state=tokens.state,
    ), status


@bp.post("/tokens/<int(max=2147483647):token_id>/revoke")
@requires("own_tokens")
def token_revoke(token_id):
    token = tokens.manageable_token(token_id, staff(), can(staff(), "all_tokens"))
    if ActionForm().validate_on_submit():
        tokens.revoke_token(token, acting())
        db.session.commit()
        flash(f"Token {token.prefix}… revoked.", "success")
    return redirect(url_for("admin.api_tokens"))


def audit_filter(args) -> audit.AuditFilter:
    return audit.AuditFilter(
        actor=(args.get("actor") or "").strip() or None,
        action=(args.get("action") or "").strip() or None,
        site_key=(args.get("site") or "").strip() or None,
        since=parse_moment(args.get("since"), "since"),
        until=parse_moment(args.get("until"), "until", end=True),
        site_keys=audit_scope(),
    )


@bp.get("/audit")
@requires("audit")
def audit_log():
    page = parse_page(request.args.get("page"))
    criteria = audit_filter(request.args)
    if criteria.site_key:
        show_times_of(criteria.site_key)
    events, has_next = audit.list_events(criteria, page=page)
    query = {k: request.args.get(k, "") for k in ("actor", "action", "site", "since", "until")}
    return render_template(
        "admin/audit.html",
        events=audit_words.describe_events(events),
        actions=audit_words.action_choices(),
        page=page,
        has_next=has_next,
        query=query,
    )


def show_times_of(site_key: str) -> None:
    """A log narrowed to one site the user may see shows its times in that site's zone."""
    with suppress(NotFound):  # an unknown site: no events either, and the times stay in UTC
        site_for(site_key)


@bp.get("/audit.csv")
@requires("audit")
def audit_export():
    return audit_csv_response(audit_filter(request.args), request.args.to_dict())


def audit_csv_response(criteria: audit.AuditFilter, asked: dict) -> Response:
    """The audit log as a CSV download (streamed), the export audited and committed first
    (the console's and the API's)."""
    stream = audit.export_events_csv(criteria, acting(), asked)
    db.session.commit()
    response = Response(stream_with_context(stream), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="accord-audit.csv"'
    return response
