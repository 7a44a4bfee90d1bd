"""The consent POST's fast path (public/consent_fast_path.py) answers as the Flask route does.

Each test sends the same kind of request once through the fast path and once through Flask
(the site's cached state forgotten, so the fast path hands the request on), and counts which
one answered: an ordinary consent must be served by the fast path, anything unusual by Flask.
"""

import json

import pytest

from cmp_server.public.consent_fast_path import ConsentFastPath
from cmp_server.services import lookup
from tests.fixtures.factories import consent_body

ORIGIN = "https://shop.example"
# Headers whose value differs between two answers by nature (time, ids, counters).
VARYING = {"Date", "X-Request-Id", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}


# A site read stays fresh for a minute here: the tests count which path answered, and a busy
# machine must not turn a cached site stale between two requests (tests forget it themselves).
FRESH = {"ACCORD_SITE_CACHE_SECONDS": 60}


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "ACCORD_CONSENT_RATE_LIMIT": "1000 per minute", **FRESH}


@pytest.fixture
def flask_answers(app):
    """How many consent POSTs the fast path handed on to Flask."""
    layer = app.wsgi_app
    while not isinstance(layer, ConsentFastPath):
        layer = layer.app if hasattr(layer, "app") else layer.wsgi_app
    inner, calls = layer.wsgi_app, []

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    layer.wsgi_app = counting
    return calls


def post(client, site_key, body, **headers):
    return client.post(
        f"/api/v1/sites/{site_key}/consents",
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        headers={"Content-Type": "text/plain;charset=UTF-8", **headers},
    )


def both_paths(client, site_key, make_body, flask_answers, **headers):
    """(fast answer, Flask answer) to two requests made by make_body()."""
    lookup.forget_site(site_key)
    through_flask = post(client, site_key, make_body(), **headers)  # reads the site again
    assert len(flask_answers) == 1
    fast = post(client, site_key, make_body(), **headers)
    return fast, through_flask


def comparable(response) -> tuple:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VARYING)
    names = sorted(k for k in response.headers if k in VARYING)
    return response.status_code, headers, names, sorted(response.json)


@pytest.mark.parametrize("origin", [None, ORIGIN])
def test_an_ordinary_consent_is_answered_like_the_route(client, make_site, flask_answers, origin):
    site = make_site()
    headers = {"Origin": origin} if origin else {}
    fast, through_flask = both_paths(client, site.site_key, consent_body, flask_answers, **headers)
    assert len(flask_answers) == 1, "the second consent did not take the fast path"
    assert fast.status_code == 201
    assert comparable(fast) == comparable(through_flask)
    assert fast.json["position"] == through_flask.json["position"] + 1
    assert fast.headers["X-Request-Id"] != through_flask.headers["X-Request-Id"]


def test_a_replay_gets_the_same_receipt_on_the_fast_path(client, make_site, flask_answers):
    site = make_site()
    body = consent_body()
    first = post(client, site.site_key, body)
    again = post(client, site.site_key, body, **{"X-Request-Id": "replay-abc123"})
    assert len(flask_answers) == 1
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["X-Request-Id"] == "replay-abc123"


def conflicting(body):
    return {**body, "choices": {"necessary": True, "analytics": False, "marketing": False}}


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("invalid", 400),
        ("bad_json", 400),
        ("media_type", 415),
        ("origin", 403),
        ("conflict", 409),
        ("secret", 403),
        ("revision", 400),
    ],
)
def test_anything_unusual_is_answered_by_flask(client, make_site, flask_answers, case, status):
    site = make_site()
    recorded = consent_body()
    assert post(client, site.site_key, recorded).status_code == 201  # caches the site
    body, headers = consent_body(), {}
    if case == "invalid":
        body["action"] = "maybe"
    elif case == "bad_json":
        body = '{"consent_id": '
    elif case == "media_type":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif case == "origin":
        headers["Origin"] = "https://evil.example"
    elif case == "conflict":
        body = conflicting(recorded)
    elif case == "secret":
        body = {**consent_body(), "device_id": recorded["device_id"]}
    elif case == "revision":
        body["revision"] = 99
    response = post(client, site.site_key, body, **headers)
    assert response.status_code == status, response.json
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert len(flask_answers) == 2, "Flask did not answer the unusual request"


def test_the_rate_limit_is_shared_with_the_route(app, client, make_site, flask_answers):
    """The fast path counts in the route's bucket: a limit reached on one is reached on both,
    and the 429 comes from the route, with its headers."""
    app.wsgi_app  # noqa: B018 - the fixture above already wrapped it
    site = make_site()
    limit = 1000
    statuses = [post(client, site.site_key, consent_body()).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert len(flask_answers) == 1
    fast = post(client, site.site_key, consent_body())
    assert fast.headers["X-RateLimit-Limit"] == str(limit)
    assert fast.headers["X-RateLimit-Remaining"] == str(limit - 4)


def test_a_consent_handed_on_to_flask_is_counted_once(app, client, make_site, flask_answers):
    """The fast path counts a consent before it knows Flask must answer it (here, a body to
    refuse): the route checks the limit but does not count it a second time."""
    site = make_site()
    post(client, site.site_key, consent_body())  # reads the site: the fast path serves the rest
    remaining = [
        int(post(client, site.site_key, body).headers["X-RateLimit-Remaining"])
        for body in (consent_body(), {**consent_body(), "action": "nonsense"}, consent_body())
    ]
    assert len(flask_answers) == 2  # the first consent, and the refused body
    assert remaining == [998, 997, 996]


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "ACCORD_CONSENT_RATE_LIMIT": "3 per minute", **FRESH}],
)
def test_a_reached_limit_still_answers_429_on_a_consent_flask_answers(
    app, client, make_site, flask_answers
):
    site = make_site()
    post(client, site.site_key, consent_body())  # reads the site: the fast path sees the rest
    statuses = [
        post(client, site.site_key, {**consent_body(), "action": "nonsense"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
