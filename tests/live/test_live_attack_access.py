"""Reaching another site, writing as a reader, forging a form: on a real server, from outside.

Every staff route that names a site (read from the app's URL map, so a new one is covered) is
tried, with every method, by a marketer and an admin limited to site A against site B, through
the console (with a valid CSRF token, so only access control can refuse) and the API; a DPO
tries every write on site A; a signed-in admin posts every console form of site A without a
CSRF token. A scan of site B is also asked for through site A's URLs. Nothing may answer, and
nothing may change. Access control and CSRF do not depend on the database: SQLite only.
"""

import re

import pytest

from tests.live.conftest import csrf_token
from tests.live.over_http import SetUp, console_token
from tests.live.test_live_access import PLACEHOLDER, admin_routes, fill

SITE_ROUTES = re.compile(r"^/(admin|api/v1/admin)/sites/<site_key>")
# what a DPO may write: verification runs and retention (DESIGN.md, "Who uses it")
DPO_WRITES = re.compile(r"/(verify|retention|purge)$")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

pytestmark = pytest.mark.sqlite_only


class Cast:
    """Site A and site B, and who acts on them, made over HTTP by the root admin (`SetUp`)."""

    def __init__(self, server):
        self.server = server
        root = SetUp(server, "root@example.com")
        self.root_token = root.token
        self.site_a = root.site("Shop A", "https://a.example")
        self.site_b = root.site("Shop B", "https://b.example")
        self.sessions, self.tokens = {}, {}
        for name, role, sites in (
            ("marketer", "marketer", [self.site_a]),
            ("admin", "admin", [self.site_a]),
            ("dpo", "dpo", []),
            ("owner", "admin", []),
        ):
            email = f"{name}-attack@example.com"
            password = root.user(email, role, site_keys=sites)
            self.sessions[name] = server.login(email, password)
            self.tokens[name] = console_token(server, self.sessions[name])
        self.scan_a = self.queue_scan(self.site_a, "https://a.example/")
        self.scan_b = self.queue_scan(self.site_b, "https://b.example/")

    def queue_scan(self, site_key: str, url: str) -> int:
        answer = self.root("POST", f"/sites/{site_key}/scans", json={"url": url, "pages": 0})
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def root(self, method, path, **kwargs):
        return self.server.api(method, path, self.root_token, **kwargs)

    def values(self, site_key: str) -> dict:
        return {
            "site_key": site_key,
            "key": "necessary",
            "index": 0,
            "scan_id": self.scan_b if site_key == self.site_b else self.scan_a,
            "shot_id": 1,
            "position": 1,
        }

    def snapshot(self) -> dict:
        state = {}
        for site in (self.site_a, self.site_b):
            for path in ("config", "scans", "revisions", "publish"):
                answer = self.root("GET", f"/sites/{site}/{path}")
                state[site, path] = answer.json() if answer.ok else answer.status_code
        return state

    def console(self, who: str, method: str, path: str, csrf: bool = True):
        session = self.sessions[who]
        data = None
        if method in WRITES:
            data = {}
            if csrf:
                page = session.get(f"{self.server.url}/admin/sites/{self.site_a}/texts")
                data["csrf_token"] = csrf_token(page.text)
        return session.request(
            method, self.server.url + path, data=data, allow_redirects=False, timeout=30
        )

    def api(self, who: str, method: str, path: str):
        json = {} if method in WRITES else None
        return self.server.api(
            method, path.removeprefix("/api/v1/admin"), self.tokens[who], json=json
        )


@pytest.fixture(scope="module")
def cast(live_server):
    return Cast(live_server)


def site_routes() -> list[tuple[str, str]]:
    return admin_routes(SITE_ROUTES)


def call(cast, who, method, rule, site_key):
    path = fill(rule, cast.values(site_key))
    if path.startswith("/api/"):
        return cast.api(who, method, path)
    return cast.console(who, method, path)


@pytest.mark.parametrize("who", ["marketer", "admin"])
def test_a_site_limited_account_reaches_nothing_of_another_site(cast, who):
    before = cast.snapshot()
    answered = []
    for method, rule in site_routes():
        answer = call(cast, who, method, rule, cast.site_b)
        if answer.status_code not in (403, 404):
            answered.append((method, rule, answer.status_code))
    assert answered == []
    assert cast.snapshot() == before


def test_a_scan_of_another_site_is_not_found_through_ones_own_site(cast):
    a, b = cast.site_a, cast.site_b
    for path in (f"/admin/sites/{a}/scans/{cast.scan_b}",):
        assert cast.console("marketer", "GET", path).status_code == 404
    for path in (f"/sites/{a}/scans/{cast.scan_b}", f"/sites/{a}/scans/{cast.scan_b}/report"):
        assert cast.server.api("GET", path, cast.tokens["marketer"]).status_code == 404
    declare = f"/admin/sites/{a}/scans/{cast.scan_b}/findings/0/declare"
    assert cast.console("marketer", "POST", declare).status_code == 404
    assert cast.console("owner", "GET", f"/admin/sites/{b}/scans/{cast.scan_b}").ok


def test_a_dpo_writes_nothing_but_verification_and_retention(cast):
    before = cast.snapshot()
    answered = []
    for method, rule in site_routes():
        if method not in WRITES or DPO_WRITES.search(rule):
            continue
        answer = call(cast, "dpo", method, rule, cast.site_a)
        if answer.status_code != 403:
            answered.append((method, rule, answer.status_code))
    assert answered == []
    assert cast.snapshot() == before


def test_every_console_form_of_a_site_needs_the_csrf_token(cast):
    before = cast.snapshot()
    accepted = []
    for method, rule in site_routes():
        if method not in WRITES or rule.startswith("/api/"):
            continue
        path = fill(rule, cast.values(cast.site_a))
        answer = cast.console("owner", method, path, csrf=False)
        if answer.status_code != 400 or "CSRF" not in answer.text:
            accepted.append((method, rule, answer.status_code))
    assert accepted == []
    assert cast.snapshot() == before


def test_the_routes_are_found():
    rules = {rule for _, rule in site_routes()}
    assert {"/admin/sites/<site_key>/scans", "/api/v1/admin/sites/<site_key>/scans"} <= rules
    assert all(PLACEHOLDER.search(rule) for rule in rules)
