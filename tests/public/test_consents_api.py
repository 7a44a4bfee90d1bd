"""The consent API: round trip, idempotency, every documented error, CORS, minimisation."""

import json

import pytest
from sqlalchemy import select, text

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord
from cmp_server.services import demo, revisions
from tests.fixtures.factories import consent_body, device_headers
from tests.fixtures.module_app import _module_apps, module_app  # noqa: F401 - fixtures

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def post(client, site_key, body, **kwargs):
    kwargs.setdefault("headers", {})
    kwargs["headers"].setdefault("User-Agent", CHROME)
    return client.post(f"/api/v1/sites/{site_key}/consents", json=body, **kwargs)


def test_round_trip_post_then_device_history(client, make_site):
    site = make_site()
    body = consent_body("custom")
    response = post(client, site.site_key, body, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert response.status_code == 201
    receipt = response.json
    assert receipt["consent_id"] == body["consent_id"]
    assert receipt["position"] == 1
    assert len(receipt["hash"]) == 64
    assert receipt["expires_at"] > receipt["received_at"]

    history = client.get(
        f"/api/v1/sites/{site.site_key}/devices/{body['device_id']}/consents",
        headers=device_headers(body["device_id"]),
    )
    assert history.status_code == 200
    [record] = history.json["consents"]
    assert record["consent_id"] == body["consent_id"]
    assert record["choices"] == body["choices"]
    assert record["action"] == "custom"
    assert record["allowed_kinds"] == ["cookie", "storage"]
    assert record["page_url"] == "https://shop.example/cart"  # no query, no fragment
    assert record["browser"] == "Chrome"
    assert record["os"] == "Windows"
    assert record["device_type"] == "desktop"
    assert record["ip_truncated"] == "203.0.113.0/24"
    assert record["hash"] == receipt["hash"]


def test_text_plain_body_is_accepted_for_beacons(client, make_site):
    site = make_site()
    response = client.post(
        f"/api/v1/sites/{site.site_key}/consents",
        data=json.dumps(consent_body("accept_all")),
        content_type="text/plain;charset=UTF-8",
    )
    assert response.status_code == 201


def test_replay_returns_the_same_receipt(client, make_site):
    site = make_site()
    body = consent_body("reject_all")
    first = post(client, site.site_key, body)
    again = post(client, site.site_key, body)
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(db.func.count()).select_from(ConsentRecord)) == 1


def test_same_consent_id_with_another_body_is_a_conflict(client, make_site):
    site = make_site()
    body = consent_body("reject_all")
    post(client, site.site_key, body)
    changed = consent_body("accept_all", consent_id=body["consent_id"], device_id=body["device_id"])
    response = post(client, site.site_key, changed)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "consent_id_conflict"


def test_unknown_site_is_404(client):
    response = post(client, "no-such-site", consent_body())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_site"


@pytest.mark.sqlite_only  # input validation, before anything is stored
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"choices": {"necessary": True, "analytics": True, "marketing": False, "x": True}},
            "choices",
        ),
        ({"choices": {"necessary": True, "analytics": True}}, "choices"),
        ({"choices": {"necessary": False, "analytics": False, "marketing": False}}, "choices"),
        ({"choices": {"necessary": True, "analytics": "yes", "marketing": False}}, "choices"),
        ({"consent_id": None}, "consent_id"),
        ({"consent_id": "not-a-uuid"}, "consent_id"),
        ({"device_id": 12}, "device_id"),
        ({"revision": "1"}, "revision"),
        ({"revision": 1.5}, "revision"),
        ({"revision": 99}, "revision"),
        ({"action": "maybe"}, "action"),
        ({"gpc": "false"}, "gpc"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"page_url": "https://shop.example/\x7f"}, "page_url"),
        ({"page_url": "https://shop.example/a\nb"}, "page_url"),
        ({"client_ts": "yesterday"}, "client_ts"),
        ({"language": "<script>"}, "language"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(client, make_site, change, field):
    site = make_site()
    body = {**consent_body("custom"), **change}
    if change.get("consent_id", "") is None:
        del body["consent_id"]
    response = post(client, site.site_key, body)
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]


def test_a_closed_banner_is_recorded_as_close(client, make_site):
    """✕ or Escape on the first layer: refused like reject_all, recorded as what it was."""
    site = make_site()
    body = consent_body("close")
    assert post(client, site.site_key, body).status_code == 201
    record = db.session.scalar(
        select(ConsentRecord).where(ConsentRecord.consent_id == body["consent_id"])
    )
    assert (record.action, record.choices) == ("close", body["choices"])


@pytest.mark.sqlite_only  # input validation, before anything is stored
@pytest.mark.parametrize(
    ("action", "choices"),
    [
        ("accept_all", {"necessary": True, "analytics": True, "marketing": False}),
        ("reject_all", {"necessary": True, "analytics": True, "marketing": False}),
        ("withdraw", {"necessary": True, "analytics": False, "marketing": True}),
        ("close", {"necessary": True, "analytics": True, "marketing": False}),
        ("gpc", {"necessary": True, "analytics": True, "marketing": False}),
    ],
)
def test_choices_must_fit_the_action(client, make_site, action, choices):
    site = make_site()
    response = post(client, site.site_key, consent_body(action, choices=choices))
    assert response.status_code == 400
    assert "choices" in response.json["error"]["fields"]


@pytest.mark.sqlite_only  # input validation, before anything is stored
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_json"),
        (b"\xff\xfe{}", "text/plain", 400, "invalid_json"),
        (b"[" * 100_00 + b"]" * 100_00, "application/json", 400, "invalid_json"),
        (b"{}", "application/xml", 415, "unsupported_media_type"),
        (b"{}", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"a": "' + b"x" * (64 * 1024) + b'"}', "application/json", 413, "too_large"),
    ],
)
def test_malformed_requests_get_their_documented_error(
    client, make_site, raw, content_type, status, code
):
    site = make_site()
    response = client.post(
        f"/api/v1/sites/{site.site_key}/consents", data=raw, content_type=content_type
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_disallowed_origin_gets_403_and_no_cors_header(client, make_site):
    site = make_site()
    response = post(
        client, site.site_key, consent_body(), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert db.session.scalar(select(db.func.count()).select_from(ConsentRecord)) == 0


def test_allowed_origin_gets_cors_headers_and_preflight(client, make_site):
    site = make_site(origins=["https://shop.example", "https://*.brand.example"])
    ok = post(client, site.site_key, consent_body(), headers={"Origin": "https://shop.example"})
    assert ok.status_code == 201
    assert ok.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Origin" in ok.headers["Vary"]
    preflight = client.options(
        f"/api/v1/sites/{site.site_key}/consents",
        headers={"Origin": "https://www.brand.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.brand.example"


def test_request_without_origin_is_served(client, make_site):
    site = make_site()
    assert post(client, site.site_key, consent_body()).status_code == 201


def test_full_ip_is_never_stored(client, make_site):
    site = make_site()
    post(client, site.site_key, consent_body(), environ_base={"REMOTE_ADDR": "198.51.100.23"})
    post(client, site.site_key, consent_body(), environ_base={"REMOTE_ADDR": "2001:db8:abcd:12::7"})
    stored = [r.ip_truncated for r in db.session.scalars(select(ConsentRecord))]
    assert sorted(stored) == ["198.51.100.0/24", "2001:db8:abcd::/48"]
    for table in ("consent_records", "consent_tallies", "audit_events"):
        dump = " ".join(str(row) for row in db.session.execute(text(f"SELECT * FROM {table}")))
        assert "198.51.100.23" not in dump
        assert "2001:db8:abcd:12::7" not in dump


def test_erasure_empties_the_device_history(client, make_site):
    site = make_site()
    body = consent_body()
    post(client, site.site_key, body)
    url = f"/api/v1/sites/{site.site_key}/devices/{body['device_id']}/consents"
    erased = client.delete(url, headers=device_headers(body["device_id"]))
    assert erased.status_code == 200
    assert erased.json["erased"] == 1
    assert client.get(url).json["consents"] == []  # its secret is unbound with it
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.entry_type == "consent"))
    assert record.device_id is None and record.salt is None and record.page_url is None
    assert record.erased_at is not None


@pytest.mark.sqlite_only  # input validation, before anything is stored
def test_device_id_must_be_a_uuid(client, make_site):
    site = make_site()
    response = client.get(f"/api/v1/sites/{site.site_key}/devices/nope/consents")
    assert response.status_code == 400
    assert "device_id" in response.json["error"]["fields"]


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_consents_are_rate_limited(backend, database_urls, tmp_path):
    from tests.conftest import empty_tables, make_app
    from tests.fixtures.factories import consent_body as body

    app = make_app(
        database_urls[backend],
        tmp_path,
        RATELIMIT_ENABLED=True,
        ACCORD_CONSENT_RATE_LIMIT="3 per minute",
    )
    empty_tables(app)
    with app.app_context():
        from cmp_server.services import sites

        site = sites.import_site(demo.demo_site_config(["https://shop.example"]))
        revisions.publish_revision(site)
        db.session.commit()
        client = app.test_client()
        statuses = [post(client, site.site_key, body()).status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        limited = post(client, site.site_key, body())
        assert limited.json["error"]["code"] == "rate_limited"
        assert "Retry-After" in limited.headers
        db.session.remove()
        db.engine.dispose()


def test_database_unreachable_gives_503_with_retry_after(tmp_path):
    from tests.conftest import make_app

    app = make_app("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    client = app.test_client()
    response = post(client, "any-site", consent_body())
    assert response.status_code == 503
    assert response.json["error"]["code"] == "storage_unavailable"
    assert response.headers["Retry-After"] == "5"
    health = client.get("/healthz")
    assert health.status_code == 503


def test_errors_reach_an_allowed_origin_with_cors_headers(client, make_site):
    """The snippet must see a 400 or 409 as such (and drop the record), not as a network
    error (and retry it forever)."""
    site = make_site()
    headers = {"Origin": "https://shop.example"}
    invalid = post(client, site.site_key, {"bad": True}, headers=headers)
    assert invalid.status_code == 400
    assert invalid.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    body = consent_body("reject_all")
    post(client, site.site_key, body, headers=headers)
    conflict = post(
        client,
        site.site_key,
        {**body, **consent_body("accept_all", consent_id=body["consent_id"])},
        headers=headers,
    )
    assert conflict.status_code == 409
    assert conflict.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    refused = post(client, site.site_key, {"bad": True}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_a_nul_character_is_bad_input_not_a_storage_failure(client, make_site):
    site = make_site()
    response = post(client, site.site_key, consent_body(page_url="https://shop.example/\u0000"))
    assert response.status_code == 400
    assert "page_url" in response.json["error"]["fields"]


def test_public_answers_neither_read_nor_set_cookies(client, make_site):
    """Visitors' browsers call these from other sites: no session, no Vary: Cookie (which
    would also stop a CDN from caching the snippet). Staff pages keep their session."""
    site = make_site()
    client.set_cookie("session", "not-a-valid-session", domain="consent.test")
    body = consent_body("accept_all")
    answers = [
        client.get(f"/s/{site.site_key}.js"),
        client.get(f"/api/v1/sites/{site.site_key}/config"),
        post(client, site.site_key, body),
        client.get(
            f"/api/v1/sites/{site.site_key}/devices/{body['device_id']}/consents",
            headers=device_headers(body["device_id"]),
        ),
        client.get("/healthz"),
        client.get("/.well-known/accord-keys.json"),
    ]
    for response in answers:
        assert response.status_code < 300, response.request.path
        assert "Set-Cookie" not in response.headers, response.request.path
        assert "Cookie" not in response.headers.get("Vary", ""), response.request.path
    login = client.get("/admin/login")
    assert "Cookie" in login.headers["Vary"]
