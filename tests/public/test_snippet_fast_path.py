"""GET /s/<key>.js replayed before Flask (public/snippet_fast_path.py): the same answer as the
route's, for the same kind of request only, and never past the site cache's freshness."""

import json
from pathlib import Path

import pytest
from flask import request_started

from cmp_server.services import revisions
from cmp_server.services.snippet import forget_answers

GEOIP_DB = Path(__file__).resolve().parents[1] / "data" / "geoip" / "GeoIP2-Country-Test.mmdb"


@pytest.fixture
def flask_requests(app):
    """The paths of the requests that reached Flask (the fast path never does)."""
    seen = []

    def note(sender, **extra):
        from flask import request

        seen.append(request.path)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


def answer(response) -> tuple:
    """Status, headers and body; the request id is each request's own."""
    headers = sorted((k, v) for k, v in response.headers.items() if k != "X-Request-Id")
    return response.status_code, headers, response.data


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept-Encoding": "gzip, deflate, br"}, {"Sec-GPC": "1"}],
    ids=["plain", "gzip", "gpc"],
)
def test_a_replayed_answer_is_the_routes_answer(client, make_site, flask_requests, headers):
    site = make_site()
    url = f"/s/{site.site_key}.js"
    forget_answers()
    from_flask = client.get(url, headers=headers)
    replayed = client.get(url, headers=headers)
    assert flask_requests == [url]
    assert from_flask.status_code == 200
    assert answer(replayed) == answer(from_flask)


def test_revalidation_is_replayed_too(client, make_site, flask_requests):
    site = make_site()
    url = f"/s/{site.site_key}.js"
    etag = client.get(url).headers["ETag"]
    for if_none_match in (etag, f'W/"nope", {etag}', "*"):
        assert client.get(url, headers={"If-None-Match": if_none_match}).status_code == 304
    changed = client.get(url, headers={"If-None-Match": '"another-revision"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == etag
    assert flask_requests == [url]


def test_answers_differ_by_gpc_and_host(client, make_site, flask_requests):
    site = make_site()
    url = f"/s/{site.site_key}.js"
    for _ in range(2):
        plain = client.get(url)
        gpc = client.get(url, headers={"Sec-GPC": "1"})
        other_host = client.get(url, headers={"Host": "cdn.consent.test"})
    assert len(flask_requests) == 3
    assert '"gpc":true' in gpc.text and '"gpc":true' not in plain.text
    assert f"http://cdn.consent.test/api/v1/sites/{site.site_key}" in other_host.text
    assert len({plain.headers["ETag"], gpc.headers["ETag"], other_host.headers["ETag"]}) == 3


def test_head_errors_and_unknown_sites_go_to_flask(client, make_site, flask_requests):
    site = make_site()
    draft = make_site(published=False)
    url = f"/s/{site.site_key}.js"
    client.get(url)
    assert client.head(url).status_code == 200
    for _ in range(2):
        assert client.get(f"/s/{draft.site_key}.js").status_code == 404
        assert client.get("/s/unknown.js").status_code == 404
    assert len(flask_requests) == 6


def test_publishing_replaces_the_answer_at_once(client, make_site, flask_requests):
    from cmp_server.extensions import db
    from cmp_server.services import lookup, sites

    site = make_site()
    url = f"/s/{site.site_key}.js"
    before = client.get(url)
    sites.import_site({**sites.export_site(site), "texts": {"en": {"title": "New"}}}, site)
    revisions.publish_revision(site)
    db.session.commit()
    lookup.forget_site(site.site_key)  # what every publishing path does
    after = client.get(url)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert '"revision":2' in after.text
    assert flask_requests == [url, url]


@pytest.mark.parametrize("app_config", [{"ACCORD_SITE_CACHE_SECONDS": 0}])
def test_nothing_is_replayed_past_the_site_cache_freshness(client, make_site, flask_requests):
    site = make_site()
    url = f"/s/{site.site_key}.js"
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert flask_requests == [url] * 3


@pytest.mark.parametrize("app_config", [{"GEOIP_DB": str(GEOIP_DB), "ACCORD_PROXY_COUNT": 1}])
def test_each_country_gets_its_own_regime(client, make_site, flask_requests):
    site = make_site(regimes={"default": "notice", "GB": "opt_in", "US": "opt_out"})
    url = f"/s/{site.site_key}.js"
    regimes = {}
    for _ in range(2):
        for address in ("81.2.69.160", "216.160.83.56", "175.16.199.0"):
            body = client.get(url, headers={"X-Forwarded-For": address}).text
            start = body.index('{"revision":')
            regimes[address] = json.JSONDecoder().raw_decode(body[start:])[0]["regime"]
    assert regimes == {
        "81.2.69.160": "opt_in",  # GB
        "216.160.83.56": "opt_out",  # US
        "175.16.199.0": "notice",  # CN: the default
    }
    assert len(flask_requests) == 3


@pytest.mark.parametrize("app_config", [{"ACCORD_COUNTRY_HEADER": "CF-IPCountry"}])
def test_the_trusted_country_header_picks_the_answer(client, make_site, flask_requests):
    site = make_site(regimes={"default": "opt_in", "US": "opt_out"})
    url = f"/s/{site.site_key}.js"
    for _ in range(2):
        us = client.get(url, headers={"CF-IPCountry": "us"})
        fr = client.get(url, headers={"CF-IPCountry": "FR"})
    assert '"regime":"opt_out"' in us.text and '"regime":"opt_in"' in fr.text
    assert "CF-IPCountry" in us.headers["Vary"]
    assert len(flask_requests) == 2


def test_each_lang_query_has_its_own_answer(client, make_site, flask_requests):
    """The inline stub's `?lang=` picks the texts the snippet carries: an answer is replayed
    only for the same query."""
    site = make_site()
    url = f"/s/{site.site_key}.js"
    for _ in range(2):
        plain = client.get(url)
        french = client.get(f"{url}?lang=fr")
        english = client.get(f"{url}?lang=en-GB")
    assert flask_requests == [url] * 3
    assert '"lang":"fr"' in french.text and '"lang":"en"' in english.text
    assert '"lang":' not in plain.text
