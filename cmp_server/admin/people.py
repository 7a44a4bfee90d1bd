"""Console pages for staff accounts, API tokens and the audit log."""

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from cmp_server.admin.access import audit_scope, can, record, requires, staff
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
from cmp_server.services import audit, tokens
from cmp_server.services import staff as staff_service
from cmp_server.services.errors import NotFound, ServiceError


@bp.route("/users", methods=["GET", "POST"])
@requires("staff")
def users():
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = staff_service.create_user(
                form.email.data,
                form.role.data,
                form.password.data,
                lines(form.site_keys.data) or None,
                by=staff(),
            )
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 400
        else:
            record(
                "user.create",
                target=user.email,
                details={"role": user.role, "site_keys": user.site_keys},
            )
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


def save_user(form: UserEditForm, user) -> dict:
    """Apply the edit form through the staff service; what changed, for the audit log."""
    keys = lines(form.site_keys.data) or None
    changes = staff_service.update_user(user, form.role.data, keys, form.active.data, by=staff())
    if form.new_password.data:
        revoked = staff_service.reset_password(user, form.new_password.data, by=staff())
        changes["password"] = "reset"  # noqa: S105 - a note, not a secret
        changes["tokens_revoked"] = changes.get("tokens_revoked", 0) + revoked
    return changes


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@requires("staff")
def user_edit(user_id):
    user = staff_service.get_user(user_id)
    form = UserEditForm()
    if request.method == "GET":
        fill_user_form(form, user)
    elif form.validate_on_submit():
        try:
            changes = save_user(form, user)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"password": "new_password"})
        else:
            record("user.update", target=user.email, details=changes)
            db.session.commit()
            flash(f"Account {user.email} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", user=user, form=form)


@bp.route("/tokens", methods=["GET", "POST"])
@requires("own_tokens")
def api_tokens():
    """Everyone manages their own tokens (which carry their role); an admin sees all."""
    form = TokenCreateForm()
    created = None
    if form.validate_on_submit():
        days = form.expires_in_days.data or tokens.DEFAULT_LIFETIME_DAYS  # left empty: default
        token, created = tokens.create_token(staff(), form.name.data, days)
        record(
            "token.create",
            target=token.prefix,
            details={"name": token.name, "expires_at": token.expires_at.isoformat()},
        )
        db.session.commit()
    everyone = can(staff(), "all_tokens")
    rows = tokens.list_tokens(None if everyone else staff())
    return render_template(
        "admin/tokens.html",
        form=form,
        rows=rows,
        created=created,
        everyone=everyone,
        action_form=ActionForm(),
        token_state=tokens.state,
    )


@bp.post("/tokens/<int(max=2147483647):token_id>/revoke")
@requires("own_tokens")
def token_revoke(token_id):
    token = tokens.get_token(token_id)
    if token.user_id != staff().id and not can(staff(), "all_tokens"):
        raise NotFound(f"No API token has the id {token_id}.", code="unknown_token")
    if ActionForm().validate_on_submit():
        tokens.revoke_token(token)
        record("token.revoke", target=token.prefix, details={"owner": token.user.email})
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
    events, has_next = audit.list_events(audit_filter(request.args), page=page)
    query = {k: request.args.get(k, "") for k in ("actor", "action", "site", "since", "until")}
    return render_template(
        "admin/audit.html", events=events, page=page, has_next=has_next, query=query
    )


@bp.get("/audit.csv")
@requires("audit")
def audit_export():
    criteria = audit_filter(request.args)
    record("audit.export", details={"filter": {k: request.args.get(k) for k in request.args}})
    db.session.commit()
    response = Response(stream_with_context(audit.stream_events_csv(criteria)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="accord-audit.csv"'
    return response
