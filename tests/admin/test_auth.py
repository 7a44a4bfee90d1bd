"""Staff sign-in: CSRF on every form, rate limit and lockout, safe redirects, sessions."""

import re

import pytest

from cmp_server.extensions import db
from cmp_server.models import AuditEvent
from cmp_server.services import login_throttle, staff
from tests.admin.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(client, path="/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def login(client, email, password, next_=None):
    token = csrf_token(client)
    url = "/admin/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


@pytest.mark.sqlite_only
def test_login_needs_the_csrf_token(client, make_staff):
    make_staff("admin", email="ann@example.com")
    answer = client.post("/admin/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert answer.status_code == 400
    assert client.get("/admin/sites").status_code == 302


def test_login_logout_round_trip(client, make_staff):
    make_staff("admin", email="ann@example.com")
    answer = login(client, "ann@example.com", PASSWORD)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/")
    assert client.get("/admin/sites").status_code == 200
    # Logout is a POST with the CSRF token; a GET does nothing.
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/admin/sites").status_code == 200
    token = csrf_token(client, "/admin/sites")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/sites").status_code == 302
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert actions == ["login.success", "logout"]


@pytest.mark.sqlite_only
def test_session_cookie_is_httponly_and_samesite(client, make_staff):
    make_staff("admin", email="ann@example.com")
    answer = login(client, "ann@example.com", PASSWORD)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "target,expected",
    [
        ("/admin/sites", "/admin/sites"),
        ("https://evil.example/admin/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("/static/x", "/admin/"),
    ],
)
def test_next_redirect_stays_in_the_console(client, make_staff, target, expected):
    make_staff("admin", email="ann@example.com")
    answer = login(client, "ann@example.com", PASSWORD, next_=target)
    assert answer.headers["Location"] == expected


def test_failed_logins_are_audited_and_throttle_the_network(client, make_staff):
    make_staff("admin", email="ann@example.com")
    for _ in range(login_throttle.FREE_FAILURES):
        assert login(client, "ann@example.com", "wrong password!").status_code == 401
    # Even the right password is refused from this network while it waits (unchecked).
    answer = login(client, "ann@example.com", PASSWORD)
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in answer.get_data(as_text=True)
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action.startswith("login."))
    ).all()
    actions = [e.action for e in events]
    assert actions == ["login.failed"] * login_throttle.FREE_FAILURES + ["login.throttled"]
    assert events[0].target == "ann@example.com"


def test_unknown_email_and_wrong_password_look_the_same(client, make_staff):
    make_staff("admin", email="ann@example.com")
    wrong = login(client, "ann@example.com", "not the password")
    unknown = login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or the password is not right." in unknown.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(client, make_staff):
    make_staff("admin", email="ann@example.com", active=False)
    assert login(client, "ann@example.com", PASSWORD).status_code == 401


def test_login_is_rate_limited(backend, database_urls, tmp_path, make_staff):
    from tests.conftest import make_app

    app = make_app(database_urls[backend], tmp_path / "rl", RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [
        client.post("/admin/login", data={"email": "x@example.com", "password": "y"}).status_code
        for _ in range(12)
    ]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # this second app's pool must not outlive the test
    assert 429 in statuses


def test_changing_the_password_signs_out_other_sessions(app, make_staff):
    make_staff("admin", email="ann@example.com")
    first, second = app.test_client(), app.test_client()
    login(first, "ann@example.com", PASSWORD)
    login(second, "ann@example.com", PASSWORD)
    token = csrf_token(first, "/admin/password")
    new = "an entirely new passphrase"
    answer = first.post(
        "/admin/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
        },
    )
    assert answer.status_code == 302
    assert first.get("/admin/sites").status_code == 200
    assert second.get("/admin/sites").status_code == 302
    assert staff.authenticate_staff("ann@example.com", new) is not None


def test_login_starts_a_new_session(client, make_staff):
    """Nothing planted in the session before sign-in survives it (no fixation)."""
    make_staff("admin", email="ann@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "ann@example.com", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


@pytest.mark.sqlite_only
def test_console_forms_refuse_posts_without_csrf(client, make_staff, make_site):
    from tests.admin.conftest import sign_in

    site = make_site(published=True)
    sign_in(client, make_staff("admin"))
    answer = client.post(f"/admin/sites/{site.site_key}/publish", data={})
    assert answer.status_code == 400


@pytest.mark.sqlite_only
def test_api_needs_no_csrf_with_a_bearer_token(client, api_as, make_site):
    site = make_site(published=False)
    answer = client.post(
        f"/api/v1/admin/sites/{site.site_key}/publish", json={}, headers=api_as("marketer")
    )
    assert answer.status_code == 201


@pytest.mark.sqlite_only
def test_api_ignores_the_session_cookie(client, make_staff):
    """A signed-in browser cannot be driven to the API (which has no CSRF check)."""
    from tests.admin.conftest import sign_in

    sign_in(client, make_staff("admin"))
    assert client.get("/api/v1/admin/sites").status_code == 401


@pytest.mark.sqlite_only
def test_the_preview_sink_takes_the_snippets_post_without_a_csrf_token(client):
    """The preview's snippet posts like on a customer site; the sink records nothing."""
    answer = client.post(
        "/admin/preview-sink/consents", data='{"consent_id": "x"}', content_type="text/plain"
    )
    assert answer.status_code == 201
