"""Access control on a real server, as an attacker would try it (issue 11, points 1, 4, 5).

1. An admin limited to one site tries every route that acts on the whole installation (staff
   accounts, signing keys, site creation, others' tokens), through the console and the API.
   The routes are read from the app's URL map, so a new one without protection fails here.
4. A session cookie copied before sign-out, a token of a deactivated (then re-activated)
   account, sessions and tokens from before an admin's password reset: all dead.
5. A stranger's wrong passwords from one network do not keep the owner out from another.

The escalation probes (1) check access control only: SQLite only. Sessions and tokens that end
(4) and the sign-in throttle (5, counted from the audit log in time windows) are stored state
read back from the database: both backends. The module's server trusts one proxy
(ACCORD_PROXY_COUNT=1) for the throttle's sign-ins from other networks; the other tests send
no X-Forwarded-For, so they come from 127.0.0.1 as before.
"""

import functools
import re
import tempfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from config import normalise_database_url
from tests.conftest import make_app
from tests.live.conftest import csrf_token
from tests.live.over_http import SetUp

SITE_LIMITED = "site_limited"
NEW_PASSWORD = "a brand new passphrase for them"
PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")

# The installation-wide routes: staff accounts and signing keys (any method), and creating a
# site (POST on the sites collection). Token routes are probed apart: every role keeps its own.
INSTALLATION_WIDE = re.compile(r"^/(admin|api/v1/admin)/(users|keys)(/|$)")
SITE_COLLECTIONS = {"/admin/sites", "/api/v1/admin/sites"}
TOKENS = re.compile(r"^/(admin|api/v1/admin)/tokens(/|$)")


@functools.cache
def url_map() -> tuple[tuple[str, frozenset[str]], ...]:
    """(rule, methods) of the real app's URL map, read once (an app costs a database)."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(f"sqlite:///{folder}/unused.db", Path(folder) / "instance")
        return tuple((rule.rule, frozenset(rule.methods)) for rule in app.url_map.iter_rules())


def admin_routes(pattern=None, creation=False) -> list[tuple[str, str]]:
    """(method, rule) of the staff side, read from the real app's URL map."""
    found = set()
    for rule, methods in url_map():
        for method in methods - {"HEAD", "OPTIONS"}:
            if (pattern and pattern.match(rule)) or (
                creation and method == "POST" and rule in SITE_COLLECTIONS
            ):
                found.add((method, rule))
    return sorted(found)


def fill(rule: str, values: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), rule)


def api_body(rule: str) -> dict:
    """What an escalating admin would send: every route gets a body that would succeed."""
    if rule.endswith("/users"):
        return {
            "email": "mallory@example.com",
            "role": "admin",
            "password": NEW_PASSWORD,
            "site_keys": None,
        }
    if "/users/" in rule:
        return {"role": "admin", "site_keys": None, "password": NEW_PASSWORD}
    if rule.endswith("/sites"):
        return {"name": "Mallory's", "origins": ["https://mallory.example"]}
    return {}


def form_body(rule: str) -> dict:
    if rule.endswith("/users"):
        return {"email": "mallory@example.com", "role": "admin", "password": NEW_PASSWORD}
    if "/users/" in rule:
        return {"role": "admin", "site_keys": "", "active": "y", "new_password": NEW_PASSWORD}
    if rule.endswith("/sites"):
        return {"name": "Mallory's", "origins": "https://mallory.example"}
    return {}


@pytest.fixture(scope="module")
def live_server_env():
    return {"ACCORD_PROXY_COUNT": "1"}


class Root(SetUp):
    """The admin of every site, through its API token: `root("GET", "/users")`. It makes the
    other accounts, their tokens and the sites over HTTP (`SetUp`)."""

    def __init__(self, server):
        super().__init__(server, "root@example.com")

    def __call__(self, method, path, **kwargs):
        return self.server.api(method, path, self.token, **kwargs)


class Staff:
    """The cast of the escalation tests, made through the API and the console."""

    def __init__(self, server, root: Root):
        self.server = server
        self.site_a = root.site("Shop A", "https://a.example")
        self.site_b = root.site("Shop B", "https://b.example")
        self.root = root
        self.root_password = root.password
        self.root_token = root.token
        self.limited_password, self.limited_token = root.user_with_token(
            "limited@example.com", "admin", site_keys=[self.site_a]
        )
        self.ids = {u["email"]: u["id"] for u in self.root("GET", "/users").json()["users"]}

    def limited(self, method, path, **kwargs):
        return self.server.api(method, path, self.limited_token, **kwargs)

    def snapshot(self) -> dict:
        """Everything the limited admin must not be able to change, as root sees it."""
        return {
            "users": [  # last_login_at moves when the limited admin signs in
                {k: u[k] for k in ("id", "email", "role", "site_keys", "active")}
                for u in self.root("GET", "/users").json()["users"]
            ],
            "keys": self.root("GET", "/keys").json()["keys"],
            "sites": self.root("GET", "/sites").json()["sites"],
            "tokens": [  # last_used_at moves with every call, root's included
                {k: t[k] for k in ("id", "owner", "state", "revoked_at", "expires_at")}
                for t in self.root("GET", "/tokens").json()["tokens"]
            ],
        }


@pytest.fixture(scope="module")
def root(live_server):
    return Root(live_server)


@pytest.fixture(scope="module")
def cast(live_server, root):
    return Staff(live_server, root)


def assert_refused_as_site_limited(answer):
    assert answer.status_code == 403, (answer.request.method, answer.url, answer.text[:300])
    assert answer.json()["error"]["code"] == SITE_LIMITED


def test_the_installation_wide_routes_are_found():
    """The URL map holds what the probes below expect (else they would prove nothing)."""
    routes = admin_routes(INSTALLATION_WIDE, creation=True)
    assert ("POST", "/api/v1/admin/users") in routes
    assert ("PATCH", "/api/v1/admin/users/<int(max=2147483647):user_id>") in routes
    assert ("POST", "/admin/keys/rotate") in routes
    assert ("POST", "/admin/sites") in routes
    assert admin_routes(TOKENS)


@pytest.mark.sqlite_only
def test_a_site_limited_admin_is_refused_every_installation_wide_api_route(cast):
    before = cast.snapshot()
    routes = [r for r in admin_routes(INSTALLATION_WIDE, creation=True) if r[1].startswith("/api")]
    for method, rule in routes:
        # Against another admin's account and against its own (to lift its own site limit).
        for user_id in {cast.ids["root@example.com"], cast.ids["limited@example.com"]}:
            path = fill(rule, {"user_id": user_id}).removeprefix("/api/v1/admin")
            body = api_body(rule) if method in ("POST", "PUT", "PATCH") else None
            assert_refused_as_site_limited(cast.limited(method, path, json=body))
    assert cast.snapshot() == before
    assert cast.root("GET", "/me").status_code == 200  # root's token was not revoked


@pytest.mark.sqlite_only
def test_a_site_limited_admin_is_refused_every_installation_wide_console_page(live_server, cast):
    before = cast.snapshot()
    browser = live_server.login("limited@example.com", cast.limited_password)
    csrf = csrf_token(browser.get(live_server.url + "/admin/tokens", timeout=30).text)
    assert csrf
    routes = [
        r for r in admin_routes(INSTALLATION_WIDE, creation=True) if r[1].startswith("/admin")
    ]
    for method, rule in routes:
        for user_id in {cast.ids["root@example.com"], cast.ids["limited@example.com"]}:
            url = live_server.url + fill(rule, {"user_id": user_id})
            data = {**form_body(rule), "csrf_token": csrf} if method == "POST" else None
            answer = browser.request(method, url, data=data, allow_redirects=False, timeout=30)
            assert answer.status_code == 403, (method, url, answer.status_code)
            assert "admins of every site" in answer.text
    assert cast.snapshot() == before


@pytest.mark.sqlite_only
def test_a_site_limited_admin_sees_and_revokes_only_its_own_tokens(live_server, cast):
    routes = admin_routes(TOKENS)
    root_tokens = cast.root("GET", "/tokens").json()["tokens"]
    root_token_id = next(t["id"] for t in root_tokens if t["owner"] == "root@example.com")
    browser = live_server.login("limited@example.com", cast.limited_password)
    csrf = csrf_token(browser.get(live_server.url + "/admin/tokens", timeout=30).text)
    for method, rule in routes:
        path = fill(rule, {"token_id": root_token_id})
        if rule.startswith("/api"):
            body = {"name": "mine"} if method == "POST" else None
            answer = cast.limited(method, path.removeprefix("/api/v1/admin"), json=body)
        else:
            data = {"name": "mine", "expires_in_days": "30", "csrf_token": csrf}
            answer = browser.request(
                method, live_server.url + path, data=data if method == "POST" else None, timeout=30
            )
        if "<" in rule:  # one token by id: another's is as unknown as a missing one
            assert answer.status_code == 404, (method, rule, answer.status_code)
        else:
            assert answer.status_code in (200, 201), (method, rule, answer.status_code)
            assert "root@example.com" not in answer.text
    listed = cast.limited("GET", "/tokens").json()["tokens"]
    assert {t["owner"] for t in listed} == {"limited@example.com"}
    assert cast.root("GET", "/me").status_code == 200  # root's token still works


@pytest.mark.sqlite_only
def test_a_site_limited_admin_keeps_admin_powers_on_its_own_site(cast):
    assert [s["site_key"] for s in cast.limited("GET", "/sites").json()["sites"]] == [cast.site_a]
    assert cast.limited("GET", f"/sites/{cast.site_a}/config").status_code == 200
    assert cast.limited("GET", f"/sites/{cast.site_b}/config").status_code == 404
    events = cast.limited("GET", "/audit").json()["events"]
    assert {e["site_key"] for e in events} <= {cast.site_a}


# --- 4. Sessions and tokens end when they should -------------------------------------------


def signed_in_cookie(live_server, email, password) -> tuple[requests.Session, dict]:
    """A console session, and a copy of its cookies as an eavesdropper would keep them."""
    browser = live_server.login(email, password)
    return browser, captured_cookies(live_server, browser)


def captured_cookies(live_server, browser: requests.Session) -> dict:
    """A copy of a signed-in session's cookies, taken while they open the console."""
    assert browser.get(live_server.url + "/admin/sites", timeout=30).status_code == 200
    return browser.cookies.get_dict()


def replays(live_server, cookies) -> bool:
    """Whether a captured cookie still opens the console."""
    answer = live_server.get("/admin/sites", cookies=cookies)
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def test_a_session_cookie_captured_before_sign_out_is_dead_after_it(live_server, root):
    password = root.user("leaver@example.com", "marketer")
    browser, captured = signed_in_cookie(live_server, "leaver@example.com", password)
    csrf = csrf_token(browser.get(live_server.url + "/admin/sites", timeout=30).text)
    out = browser.post(
        live_server.url + "/admin/logout", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert out.status_code == 302 and out.headers["Location"].endswith("/admin/login")
    answer = live_server.get("/admin/sites", cookies=captured)
    assert answer.status_code == 302
    assert "/admin/login" in answer.headers["Location"]


def user_id_of(root, email: str) -> int:
    """The id the staff API gives the account with this email, read as the root admin."""
    return next(u["id"] for u in root("GET", "/users").json()["users"] if u["email"] == email)


def test_deactivation_revokes_tokens_and_sessions_for_good(live_server, root):
    _, browser, token = root.signed_in("temp@example.com", "dpo")
    captured = captured_cookies(live_server, browser)
    user_id = user_id_of(root, "temp@example.com")
    off = root("PATCH", f"/users/{user_id}", json={"active": False})
    assert off.status_code == 200
    assert live_server.api("GET", "/me", token).status_code == 401
    assert root("PATCH", f"/users/{user_id}", json={"active": True}).status_code == 200
    assert live_server.api("GET", "/me", token).status_code == 401
    assert not replays(live_server, captured)
    states = {t["prefix"]: t["state"] for t in root("GET", "/tokens").json()["tokens"]}
    assert states[token[:12]] == "revoked"


def test_an_admin_password_reset_ends_sessions_and_tokens(live_server, root):
    _, browser, token = root.signed_in("forgetful@example.com", "marketer")
    captured = captured_cookies(live_server, browser)
    user_id = user_id_of(root, "forgetful@example.com")
    reset = root("PATCH", f"/users/{user_id}", json={"password": NEW_PASSWORD})
    assert reset.status_code == 200
    assert live_server.api("GET", "/me", token).status_code == 401
    assert not replays(live_server, captured)


def test_tokens_expire(live_server, root):
    made = root("POST", "/tokens", json={"name": "short", "expires_in_days": 1})
    assert made.status_code == 201
    assert made.json()["state"] == "active" and made.json()["expires_at"]
    plain = made.json()["token"]
    assert live_server.api("GET", "/me", plain).status_code == 200
    for days in (0, 366, "30", None):
        refused = root("POST", "/tokens", json={"expires_in_days": days})
        assert refused.status_code == 400
        assert "expires_in_days" in refused.json()["error"]["fields"]
    # A day later, as the database will say then.
    engine = create_engine(normalise_database_url(live_server.env["DATABASE_URL"]))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE api_tokens SET expires_at = created_at WHERE prefix = :p"),
            {"p": plain[:12]},
        )
    engine.dispose()
    assert live_server.api("GET", "/me", plain).status_code == 401
    listed = {t["prefix"]: t["state"] for t in root("GET", "/tokens").json()["tokens"]}
    assert listed[plain[:12]] == "expired"


# --- 5. A stranger cannot lock the DPO out ------------------------------------------------

ATTACKER = "203.0.113.7"
ATTACKER_NEIGHBOUR = "203.0.113.99"  # same /24: the same client network
DPO_OFFICE = "198.51.100.20"


def sign_in_from(server, address, email, password) -> requests.Response:
    """A sign-in from a client address, as the proxy in front of Accord reports it."""
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = address
    page = browser.get(server.url + "/admin/login", timeout=30)
    return browser.post(
        server.url + "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )


def test_wrong_passwords_from_one_network_do_not_lock_the_owner_out(live_server, root):
    server = live_server
    assert server.env["ACCORD_PROXY_COUNT"] == "1"
    password = root.user("dpo@example.com", "dpo")
    for _ in range(5):
        wrong = sign_in_from(server, ATTACKER, "dpo@example.com", "guess-" + password[:8])
        assert wrong.status_code == 401
    # The attacker's network now waits, even with the right password (it is not checked).
    for address in (ATTACKER, ATTACKER_NEIGHBOUR):
        throttled = sign_in_from(server, address, "dpo@example.com", password)
        assert throttled.status_code == 429
        assert "Too many failed sign-ins" in throttled.text
        assert int(throttled.headers["Retry-After"]) > 0  # the later of ours and the limiter's
    # The DPO, from her own network, signs in at once.
    owner = sign_in_from(server, DPO_OFFICE, "dpo@example.com", password)
    assert owner.status_code == 302
    assert owner.headers["Location"].endswith("/admin/")
