"""Every console page and admin API call, for each of: not signed in, admin, marketer, dpo.

One row per route: the roles allowed and the status they get. Everyone else gets 403
(signed in, wrong role), a redirect to the login page (console) or 401 (API).
"""

import pytest
from sqlalchemy import insert, select

from cmp_server.extensions import db
from cmp_server.models import Site, User
from cmp_server.services import sites
from cmp_server.services.seeding import seed_consents

OTHER_EMAIL = "someone@example.com"


@pytest.fixture
def backend(database_urls):
    """Authorisation does not depend on the database: these checks run on SQLite only (the
    storage paths they touch are tested on both databases elsewhere)."""
    return "sqlite"


@pytest.fixture(scope="module")
def _starts():
    """{(backend, kind, role): (every table's rows, what the client was given)}, once the first
    test of that kind ("console" or "api") and role has made its start."""
    return {}


@pytest.fixture
def start(app, backend, make_site, make_staff, console_as, api_as, _starts):
    """start(kind, role) -> (site, other, signed-in client or API headers): what each route
    test starts from, in tables otherwise empty: a published site with a few consent records
    in its log (conftest's `seeded_site`), another staff account (a marketer), and the role's
    account signed in to the console (`console_as`) or with an API token (`api_as`). Made by
    the first test of each kind and role (publishing, sealing, the account and its session or
    token: most of a test's time, the same each time), then copied row for row into the next
    ones' emptied tables, and their client given the same signed session cookie."""

    def make(kind, role):
        key = (backend, kind, role)
        if key not in _starts:
            site = make_site(published=True)
            seed_consents(site.site_key, 12, days=5)
            make_staff("marketer", email=OTHER_EMAIL)
            if kind == "console":
                with console_as(role).session_transaction() as session:
                    given = dict(session)
            else:
                given = api_as(role)
            with db.engine.connect() as conn:
                rows = {
                    t: conn.execute(select(t)).mappings().all() for t in db.metadata.sorted_tables
                }
            _starts[key] = (rows, given)
        else:
            rows, given = _starts[key]
            with db.engine.begin() as conn:
                for table in db.metadata.sorted_tables:  # parents before children
                    if rows[table]:
                        conn.execute(insert(table), [dict(row) for row in rows[table]])
        if kind == "console":
            client = app.test_client()
            with client.session_transaction() as session:
                session.update(given)
            given = client
        site = db.session.scalar(select(Site))
        return site, db.session.scalar(select(User).where(User.email == OTHER_EMAIL)), given

    return make


ADMIN, MARKETER, DPO = "admin", "marketer", "dpo"
ALL = {ADMIN, MARKETER, DPO}
EDITORS = {ADMIN, MARKETER}
PROOFS = {ADMIN, DPO}

# (method, path, allowed roles, status for an allowed role, form or JSON body)
CONSOLE = [
    ("GET", "/admin/", ALL, 302, None),
    ("GET", "/admin/sites", ALL, 200, None),
    ("POST", "/admin/sites", {ADMIN}, 302, {"name": "New", "origins": "https://new.example"}),
    ("GET", "/admin/sites/{key}", ALL, 200, None),
    ("GET", "/admin/sites/{key}/dashboard", ALL, 200, None),
    ("GET", "/admin/sites/{key}/settings", EDITORS, 200, None),
    ("POST", "/admin/sites/{key}/settings", EDITORS, 400, {"name": ""}),
    ("GET", "/admin/sites/{key}/texts", EDITORS, 200, None),
    ("POST", "/admin/sites/{key}/texts?lang=en", EDITORS, 302, {"title": "Hello"}),
    ("GET", "/admin/sites/{key}/look", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/json", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/categories/new", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/categories/analytics", EDITORS, 200, None),
    ("POST", "/admin/sites/{key}/categories/analytics/delete", EDITORS, 302, {}),
    ("GET", "/admin/sites/{key}/categories/analytics/trackers/new", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/categories/analytics/trackers/0", EDITORS, 200, None),
    ("POST", "/admin/sites/{key}/categories/analytics/trackers/0/delete", EDITORS, 302, {}),
    ("GET", "/admin/sites/{key}/preview", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/preview.js", EDITORS, 200, None),
    ("GET", "/admin/sites/{key}/publish", EDITORS, 200, None),
    ("POST", "/admin/sites/{key}/publish", EDITORS, 302, {}),
    ("GET", "/admin/sites/{key}/proofs", PROOFS, 200, None),
    ("GET", "/admin/sites/{key}/proofs/1", PROOFS, 200, None),
    ("GET", "/admin/sites/{key}/proofs/export?format=csv", PROOFS, 200, None),
    ("GET", "/admin/sites/{key}/proofs/export?format=ndjson", PROOFS, 200, None),
    ("GET", "/admin/sites/{key}/verify", PROOFS, 200, None),
    ("POST", "/admin/sites/{key}/verify", PROOFS, 200, {}),
    ("GET", "/admin/sites/{key}/retention", PROOFS, 200, None),
    ("POST", "/admin/sites/{key}/retention", PROOFS, 302, {"retention_days": "400"}),
    ("POST", "/admin/sites/{key}/purge", PROOFS, 302, {}),
    ("GET", "/admin/audit", PROOFS, 200, None),
    ("GET", "/admin/audit.csv", PROOFS, 200, None),
    ("GET", "/admin/users", {ADMIN}, 200, None),
    (
        "POST",
        "/admin/users",
        {ADMIN},
        302,
        {"email": "new@example.com", "role": "dpo", "password": "a long enough password"},
    ),
    ("GET", "/admin/users/{user_id}", {ADMIN}, 200, None),
    ("GET", "/admin/keys", {ADMIN}, 200, None),
    ("POST", "/admin/keys/rotate", {ADMIN}, 302, {}),
    ("GET", "/admin/tokens", ALL, 200, None),
    ("POST", "/admin/tokens", ALL, 200, {"name": "ci"}),
    ("GET", "/admin/password", ALL, 200, None),
]

API = [
    ("GET", "/api/v1/admin/me", ALL, 200, None),
    ("GET", "/api/v1/admin/sites", ALL, 200, None),
    ("POST", "/api/v1/admin/sites", {ADMIN}, 201, {"name": "New", "origins": []}),
    ("GET", "/api/v1/admin/sites/{key}/config", ALL, 200, None),
    ("PUT", "/api/v1/admin/sites/{key}/config", EDITORS, 200, "config"),
    ("GET", "/api/v1/admin/sites/{key}/publish", ALL, 200, None),
    ("POST", "/api/v1/admin/sites/{key}/publish", EDITORS, 201, {}),
    ("GET", "/api/v1/admin/sites/{key}/revisions", ALL, 200, None),
    ("PUT", "/api/v1/admin/sites/{key}/retention", PROOFS, 200, {"retention_days": 400}),
    ("GET", "/api/v1/admin/sites/{key}/stats", ALL, 200, None),
    ("GET", "/api/v1/admin/sites/{key}/consents", PROOFS, 200, None),
    ("GET", "/api/v1/admin/sites/{key}/consents/1", PROOFS, 200, None),
    ("GET", "/api/v1/admin/sites/{key}/consents/export?format=ndjson", PROOFS, 200, None),
    ("POST", "/api/v1/admin/sites/{key}/verify", PROOFS, 200, None),
    ("GET", "/api/v1/admin/audit", PROOFS, 200, None),
    ("GET", "/api/v1/admin/audit?format=csv", PROOFS, 200, None),
    ("GET", "/api/v1/admin/users", {ADMIN}, 200, None),
    (
        "POST",
        "/api/v1/admin/users",
        {ADMIN},
        201,
        {"email": "new@example.com", "role": "dpo", "password": "a long enough password"},
    ),
    ("PATCH", "/api/v1/admin/users/{user_id}", {ADMIN}, 200, {"role": "marketer"}),
    ("GET", "/api/v1/admin/keys", {ADMIN}, 200, None),
    ("POST", "/api/v1/admin/keys/rotate", {ADMIN}, 201, None),
    ("GET", "/api/v1/admin/tokens", ALL, 200, None),
    ("POST", "/api/v1/admin/tokens", ALL, 201, {"name": "ci"}),
]

IDENTITIES = [None, ADMIN, MARKETER, DPO]


def expected(role, allowed, ok_status, api):
    if role is None:
        return 401 if api else 302
    return ok_status if role in allowed else 403


def fill(path, site, other_user):
    return path.format(key=site.site_key, user_id=other_user.id)


def edit_draft_before_publish(method, path, site):
    """Publishing the draft as it is published already is refused: give it a change."""
    if method == "POST" and path.endswith("/publish"):
        sites.import_site({**sites.export_site(site), "texts": {"en": {"title": "New"}}}, site)
        db.session.commit()


@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize(
    "method,path,allowed,ok_status,body", CONSOLE, ids=[f"{m} {p}" for m, p, *_ in CONSOLE]
)
def test_console_route_by_role(start, role, method, path, allowed, ok_status, body):
    seeded_site, other, client = start("console", role)
    edit_draft_before_publish(method, path, seeded_site)
    response = client.open(fill(path, seeded_site, other), method=method, data=body)
    assert response.status_code == expected(role, allowed, ok_status, api=False), response.get_data(
        as_text=True
    )[:500]
    if role is None:
        assert "/admin/login" in response.headers["Location"]
    response.close()  # an export's stream, unread: ended here, not when collected later


@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize(
    "method,path,allowed,ok_status,body", API, ids=[f"{m} {p}" for m, p, *_ in API]
)
def test_api_route_by_role(client, start, role, method, path, allowed, ok_status, body):
    seeded_site, other, headers = start("api", role)
    edit_draft_before_publish(method, path, seeded_site)
    if body == "config":
        body = sites.export_site(seeded_site)
    response = client.open(
        fill(path, seeded_site, other), method=method, json=body, headers=headers
    )
    assert response.status_code == expected(role, allowed, ok_status, api=True), response.get_data(
        as_text=True
    )[:500]
    if response.status_code in (401, 403):
        assert response.get_json()["error"]["code"] in ("unauthorized", "role_forbidden")
    response.close()


SITE_PAGES = [
    "/admin/sites/{key}",
    "/admin/sites/{key}/dashboard",
    "/admin/sites/{key}/settings",
    "/admin/sites/{key}/proofs",
    "/admin/sites/{key}/publish",
]
SITE_CALLS = [
    "/api/v1/admin/sites/{key}/config",
    "/api/v1/admin/sites/{key}/stats",
    "/api/v1/admin/sites/{key}/consents",
]


@pytest.mark.parametrize("path", SITE_PAGES)
def test_site_limited_account_cannot_see_other_sites(console_as, make_site, path):
    mine = make_site(published=True, name="Mine")
    theirs = make_site(published=True, name="Theirs")
    client = console_as(ADMIN, site_keys=[mine.site_key])
    assert client.get(path.format(key=theirs.site_key)).status_code == 404
    assert client.get(path.format(key=mine.site_key)).status_code == 200


@pytest.mark.parametrize("path", SITE_CALLS)
def test_site_limited_token_cannot_reach_other_sites(client, api_as, make_site, path):
    mine = make_site(published=True, name="Mine")
    theirs = make_site(published=True, name="Theirs")
    headers = api_as(DPO, site_keys=[mine.site_key])
    answer = client.get(path.format(key=theirs.site_key), headers=headers)
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "unknown_site"
    assert client.get(path.format(key=mine.site_key), headers=headers).status_code == 200


def test_site_list_shows_only_the_accounts_sites(client, console_as, api_as, make_site):
    mine = make_site(published=True, name="Mine")
    make_site(published=True, name="Theirs")
    page = console_as(MARKETER, site_keys=[mine.site_key]).get("/admin/sites")
    assert "Mine" in page.get_data(as_text=True)
    assert "Theirs" not in page.get_data(as_text=True)
    listed = client.get("/api/v1/admin/sites", headers=api_as(DPO, site_keys=[mine.site_key]))
    assert [s["site_key"] for s in listed.get_json()["sites"]] == [mine.site_key]
