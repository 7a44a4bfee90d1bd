"""Staff sign-in: console sessions (Flask-Login) and API bearer tokens.

Sessions: the session is cleared before login (no fixation: nothing from before sign-in
survives), Flask-Login's "strong" protection drops it if the client changes, and it names a
session held on the server (services/staff_sessions.py), so sign-out, a password change, a
reset or a deactivation end it even for a copy of the cookie.
Sign-in attempts are throttled per account and client network (services/login_throttle.py).
API: `Authorization: Bearer <token>` only; the session cookie is ignored there, which is why
the API needs no CSRF token (a browser cannot attach a bearer token on its own).
"""

import math
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from cmp_server.admin.access import record
from cmp_server.admin.blueprint import api_bp, bp
from cmp_server.admin.forms import ChangePasswordForm, LoginForm, LogoutForm, apply_errors
from cmp_server.extensions import db, limiter
from cmp_server.extensions import login as login_manager
from cmp_server.models import User
from cmp_server.models.types import utcnow
from cmp_server.services import login_throttle, staff_sessions, tokens
from cmp_server.services import staff as staff_service
from cmp_server.services.errors import ServiceError
from cmp_server.visitor import client_ip, truncate_ip

LOGIN_RATE_LIMIT = "10 per minute; 50 per hour"
SESSION_ID = "sid"  # the key of the server-side session's id in the signed cookie


def configure_login_manager():
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The cookie's user, only while its server-side session lives (not signed out since)."""
    try:
        uid = int(user_id)
    except ValueError:
        return None
    return staff_sessions.session_user(uid, session.get(SESSION_ID))


PER_REQUEST = ("csrf_token", "csp_nonce", "token", "staff", "via", "_login_user")


def reset_request_state():
    """Forget what an earlier request left in `g`: it outlives a request when an app
    context was already pushed (the test suite, scripts), and a stale CSRF token there
    would never reach the session."""
    for name in PER_REQUEST:
        g.pop(name, None)


@bp.before_request
def console_user():
    reset_request_state()
    g.via = "console"
    g.staff = current_user if current_user.is_authenticated else None


@api_bp.before_request
def api_user():
    """Bearer tokens only; a missing or bad token leaves g.staff empty (views answer 401)."""
    reset_request_state()
    g.via = "api"
    g.staff = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        token = tokens.authenticate(secret.strip())
        if token is not None:
            g.token = token
            g.staff = token.user


@api_bp.after_request
def audit_token_use(response):
    """Every use of a token is in the audit log: who, which token, what call, the outcome."""
    token = g.get("token")
    if token is not None:
        try:
            record(
                "token.use",
                target=token.prefix,
                details={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                },
            )
            db.session.commit()
        except Exception:  # noqa: BLE001 - the answer stands even if the log write fails
            db.session.rollback()
    return response


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path on this site only (no open redirect)."""
    default = url_for("admin.home")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/"):
        return default
    return target


def wait_message(wait) -> str:
    minutes = math.ceil(wait.total_seconds() / 60)
    when = "a minute" if minutes <= 1 else f"{minutes} minutes"
    return (
        "Too many failed sign-ins for this account from your network: "
        f"try again in {when}. Other networks are not affected."
    )


def sign_in(user: User) -> None:
    """Start a fresh session (nothing from before sign-in survives) held on the server."""
    session.clear()
    login_user(user)
    session[SESSION_ID] = staff_sessions.start_session(user)
    user.last_login_at = utcnow()
    g.staff = user
    record("login.success", target=user.email)


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
@limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"])
def login_page():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("admin/login.html", form=form), status
    email = form.email.data.strip().lower()
    wait = login_throttle.wait_before_attempt(email, truncate_ip(client_ip()))
    if wait:
        # Refused before the password is even checked: a throttled guess learns nothing.
        record("login.throttled", target=email, actor=email)
        db.session.commit()
        form.form_errors.append(wait_message(wait))
        headers = {"Retry-After": str(math.ceil(wait.total_seconds()))}
        return render_template("admin/login.html", form=form), 429, headers
    user = staff_service.authenticate_staff(email, form.password.data)
    if user is None:
        record("login.failed", target=email, actor=email)
        db.session.commit()
        form.form_errors.append("The email or the password is not right.")
        return render_template("admin/login.html", form=form), 401
    sign_in(user)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.home"))
    record("logout", target=current_user.email)
    staff_sessions.end_session(session.get(SESSION_ID))
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            staff_service.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                keep_session=session.get(SESSION_ID),
            )
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            record("user.password", target=current_user.email)
            db.session.commit()
            flash("Your password is changed. Other sessions are signed out.", "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/password.html", form=form)
