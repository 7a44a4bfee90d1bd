"""Hostile input on the admin API and the public consent endpoint, on a real server: each is a
clear 4xx JSON error, never a 500, and nothing of it is saved.

A lone UTF-16 surrogate escape (`"\\ud800"`) is valid to Python's json module but no UTF-8
encoder or database stores it: before strict parsing (cmp_server/strict_json.py) it passed
validation and failed at commit with a 500, from any visitor's browser on the public endpoint.
Strict parsing and validation answer (a 400, asserted) before anything reaches the database:
SQLite only.
"""

import json

import pytest

from tests.fixtures.factories import consent_body
from tests.live.over_http import SetUp

ORIGIN = "https://shop.example"
DEEP = b'{"a":' * 5000

pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def admin(live_server):
    token = SetUp(live_server, "input-admin@example.com").token
    answer = live_server.api("POST", "/sites", token, json={"name": "Inputs", "origins": [ORIGIN]})
    site_key = answer.json()["site_key"]
    config = live_server.api("GET", f"/sites/{site_key}/config", token).json()
    config["privacy_policy_url"] = ORIGIN + "/privacy"
    assert live_server.api("PUT", f"/sites/{site_key}/config", token, json=config).ok
    assert live_server.api("POST", f"/sites/{site_key}/publish", token, json={}).ok
    return token, site_key


def raw_json(value) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: "\ud800" stays an escape, as a client sends


def assert_json_4xx(answer, status=400):
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]["message"]


def put_raw_config(live_server, token, site_key, body: bytes | str):
    """PUT a site's config as these exact bytes (what `json=` could not send)."""
    headers = {"Content-Type": "application/json"}
    return live_server.api("PUT", f"/sites/{site_key}/config", token, data=body, headers=headers)


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Shop \ud800"},
        {"time_zone": "Europe/Paris\udfff"},
        {"texts": {"en": {"title": "\ud83d"}}},
    ],
    ids=["name", "time_zone", "texts"],
)
def test_a_lone_surrogate_in_the_site_config_is_a_400(live_server, admin, change):
    token, site_key = admin
    before = live_server.api("GET", f"/sites/{site_key}/config", token).json()
    body = raw_json({**before, **change})
    answer = put_raw_config(live_server, token, site_key, body)
    assert_json_4xx(answer)
    assert live_server.api("GET", f"/sites/{site_key}/config", token).json() == before


def test_deeply_nested_json_is_a_400(live_server, admin):
    token, site_key = admin
    answer = put_raw_config(live_server, token, site_key, DEEP)
    assert_json_4xx(answer)


@pytest.mark.parametrize("media", ["application/json", "text/plain"])
def test_a_visitor_sending_a_lone_surrogate_gets_a_400(live_server, admin, media):
    _, site_key = admin
    body = consent_body("accept_all", choices={"necessary": True}, page_url=ORIGIN + "/\ud800")
    answer = live_server.post(
        f"/api/v1/sites/{site_key}/consents",
        data=raw_json(body),
        headers={"Content-Type": media, "Origin": ORIGIN},
    )
    assert_json_4xx(answer)
    assert answer.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "url", ["https://[::1/", "https://shop.example:99999/", "https://shop.example:0/", "http://"]
)
def test_an_unreadable_scan_url_is_a_400_naming_the_field(live_server, admin, url):
    token, site_key = admin
    answer = live_server.api("POST", f"/sites/{site_key}/scans", token, json={"url": url})
    assert_json_4xx(answer)
    assert "url" in answer.json()["error"]["fields"]
    assert live_server.api("GET", f"/sites/{site_key}/scans", token).json()["scans"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"floating_button": "yes"},
        {"floating_button": 1},
        {"reload_on_withdraw": "false"},
        {"refusal_interval_days": "7"},
        {"refusal_interval_days": 10**30},
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "x" * 10_000},
        {"time_zone": 5},
        {"texts": {"en": {"title": 5}}},
        {"texts": {"xx-not-a-language!": {"title": "x"}}},
    ],
    ids=lambda change: next(iter(change)) + ":" + repr(next(iter(change.values())))[:20],
)
def test_a_wrong_visitor_option_or_zone_is_a_400_naming_it(live_server, admin, change):
    token, site_key = admin
    before = live_server.api("GET", f"/sites/{site_key}/config", token).json()
    answer = live_server.api("PUT", f"/sites/{site_key}/config", token, json={**before, **change})
    assert_json_4xx(answer)
    assert next(iter(change)) in answer.json()["error"]["fields"]
    assert live_server.api("GET", f"/sites/{site_key}/config", token).json() == before
