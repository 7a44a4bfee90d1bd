"""Security: script in any staff-editable text stays text on every console page, and a
forged CSRF token is refused like a missing one."""

import json

import pytest

from cmp_server.extensions import db
from cmp_server.services import lookup, revisions, sites
from tests.admin.test_auth import PASSWORD, csrf_token
from tests.fixtures.factories import consent_body

pytestmark = pytest.mark.sqlite_only  # escaping and CSRF: what the database holds plays no part


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
def hostile_site(app, demo_config):
    """A site whose every free text (names, texts, labels, tracker fields) carries script."""
    config = json.loads(json.dumps(demo_config))
    config["name"] = "Shop " + PAYLOAD
    config["texts"] = {lang: {"title": PAYLOAD, "description": PAYLOAD} for lang in ("en", "fr")}
    for category in config["categories"]:
        for label in category["labels"].values():
            label["title"] = label["description"] = PAYLOAD
        for tracker in category["trackers"]:
            for field in ("name", "provider", "purpose", "duration"):
                tracker[field] = PAYLOAD[: 100 if field == "duration" else 200]
            tracker["cookies"] = [PAYLOAD]
    site = sites.import_site(config)
    revisions.publish_revision(site, published_by="x@example.com")
    db.session.commit()
    lookup.forget_site(site.site_key)
    return site


def console_pages(site_key: str, position: int) -> list[str]:
    base = f"/admin/sites/{site_key}"
    return [
        "/admin/",
        "/admin/sites",
        base,
        f"{base}/settings",
        f"{base}/texts?lang=en",
        f"{base}/texts?lang=fr",
        f"{base}/look",
        f"{base}/categories/analytics",
        f"{base}/categories/marketing/trackers/0",
        f"{base}/json",
        f"{base}/preview",
        f"{base}/publish",
        f"{base}/dashboard",
        f"{base}/proofs",
        f"{base}/proofs/{position}",
        f"{base}/verify",
        f"{base}/retention",
        "/admin/audit",
    ]


def test_script_in_staff_text_is_escaped_on_every_console_page(console_as, hostile_site):
    client = console_as("admin")
    receipt = client.post(
        f"/api/v1/sites/{hostile_site.site_key}/consents", json=consent_body("accept_all")
    ).json
    for path in console_pages(hostile_site.site_key, receipt["position"]):
        answer = client.get(path, follow_redirects=True)
        assert answer.status_code == 200, path
        page = answer.get_data(as_text=True)
        assert "<img src=x onerror" not in page, path
        assert "<script>alert(2)" not in page, path


def test_script_in_staff_text_is_inert_in_the_snippet(client, hostile_site):
    body = client.get(f"/s/{hostile_site.site_key}.js").get_data(as_text=True)
    assert "<img src=x" not in body and "<script>" not in body  # JSON-escaped in the script


def test_a_forged_csrf_token_is_refused(client, make_staff):
    make_staff("admin", email="ann@example.com")
    real = csrf_token(client)
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for token in (forged, "not-a-token", ""):
        answer = client.post(
            "/admin/login",
            data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD},
        )
        assert answer.status_code == 400
    assert client.get("/admin/sites").status_code == 302  # still signed out


def test_a_token_from_another_session_is_refused(app, make_staff):
    """A CSRF token is bound to its session: one lifted from another browser does not work."""
    make_staff("admin", email="ann@example.com")
    attacker, victim = app.test_client(), app.test_client()
    token = csrf_token(attacker)
    csrf_token(victim)  # the victim has a session of its own
    answer = victim.post(
        "/admin/login",
        data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD},
    )
    assert answer.status_code == 400
