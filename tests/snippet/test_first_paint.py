"""Issue #17: the recommended integration (the inline stub of `accord site snippet`, which
loads the snippet without blocking) keeps every guarantee of the plain <script> tag.

- Consent Mode's `default` comes before every tag the page places after Accord's lines;
- nothing blocked runs before a decision, even when the rest of Accord is slow or never
  arrives (its requests held or refused with page.route);
- Accord.* calls made before the snippet arrived are queued and applied;
- a strict nonce CSP still works, the lazily fetched banner UI included;
- a returning visitor loads the core snippet, and the banner UI only when it must show.
"""

import hashlib
import re
import time

import pytest

from cmp_server.services import snippet
from cmp_server.services.snippet import install_html
from cmp_server.vocabulary import CONSENT_MODE_SIGNALS
from tests.snippet.conftest import (
    SHOP,
    TRACKERS_HTML,
    after_first_frame,
    strict_csp,
    wait_for,
    wait_for_answers,
    wait_until,
)

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'
ALL_DENIED = dict.fromkeys(CONSENT_MODE_SIGNALS, "denied")
# A tag placed after Accord's lines: notes what the dataLayer held when it ran.
TAG = "<script>window.atTag = dataLayer.map(a => [a[0], a[1], a[2]]);</script>"


def open_recommended(shop, site_key, body="", head="", nonce=None, path="/", wait=True):
    """Serve and load a page integrated the recommended way: the printed HTML first in <head>."""
    stub = install_html(shop.server.url, site_key)
    if nonce:
        stub = stub.replace('nonce="NONCE"', f'nonce="{nonce}"')
    shop.pages[path] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
        f"{stub}{head}</head><body><main><h1>Shop</h1>{body}</main></body></html>"
    )
    # A script that has not arrived holds the load event, not the page's painting.
    shop.page.goto(SHOP + path, wait_until="load" if wait else "domcontentloaded")
    if wait:
        wait_for(shop.page, "() => !!window.Accord && !window.Accord.q")
    return shop.page


def snippet_requests(shop) -> list[str]:
    """Paths of the requests the page made to Accord's /s/ (noted from now on)."""
    seen = []
    shop.page.on(
        "request",
        lambda r: (
            r.url.startswith(shop.server.url + "/s/")
            and seen.append(r.url.removeprefix(shop.server.url))
        ),
    )
    return seen


def refuse_snippet(shop) -> list[str]:
    """Refuse every request to Accord's /s/; returns the URLs refused (noted from now on)."""
    refused = []

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    shop.page.route(re.compile(re.escape(shop.server.url) + r"/s/.*"), refuse)
    return refused


def test_consent_mode_default_precedes_a_later_tag_without_the_snippet(shop, make_live_site):
    key = make_live_site()
    refuse_snippet(shop)
    page = open_recommended(shop, key, head=TAG, wait=False)
    wait_for(page, "() => !!window.atTag")
    assert page.evaluate("() => atTag") == [
        ["consent", "default", {**ALL_DENIED, "wait_for_update": 500}]
    ]


def test_the_snippet_then_updates_consent_mode_to_the_regimes_state(shop, make_live_site):
    key = make_live_site()
    page = open_recommended(shop, key, head=TAG)
    assert page.evaluate("() => atTag")[0][1] == "default"
    commands = page.evaluate("() => dataLayer.map(a => [a[0], a[1]])")
    # One default (the stub's), then the snippet's update: required categories granted.
    assert commands.count(["consent", "default"]) == 1
    update = page.evaluate("() => dataLayer.find(a => a[1] == 'update')[2]")
    assert update["security_storage"] == "granted"
    assert update["ad_storage"] == "denied" and update["analytics_storage"] == "denied"


def test_nothing_blocked_runs_when_the_snippet_never_arrives(shop, make_live_site):
    key = make_live_site()
    refused = refuse_snippet(shop)
    page = open_recommended(shop, key, TRACKERS_HTML, wait=False)
    page.wait_for_load_state("load")  # after the snippet's request failed: it held the load
    assert len(refused) == 1  # the snippet's, refused: nothing of Accord's ran
    after_first_frame(page)
    assert shop.tracker_requests() == []
    assert page.evaluate("() => window.ran || []") == []
    assert page.get_attribute("#pixel", "src") is None
    assert page.get_attribute("iframe", "src") is None
    assert page.locator("h1").is_visible()  # the page itself rendered


def test_nothing_blocked_runs_while_the_snippet_is_slow_then_runs_once_granted(
    shop, make_live_site
):
    key = make_live_site()
    held = []
    shop.page.route(
        re.compile(re.escape(shop.server.url) + r"/s/.*"), lambda route: held.append(route)
    )
    page = open_recommended(shop, key, TRACKERS_HTML, wait=False)
    wait_until(lambda: held, page=page)  # the snippet's request: now only it could run them
    after_first_frame(page)
    assert len(held) == 1 and shop.tracker_requests() == []
    assert page.evaluate("() => window.ran || []") == []
    assert page.locator("h1").is_visible()  # painted while Accord was still on its way
    held[0].continue_()
    page.locator(BANNER).wait_for()
    assert shop.tracker_requests() == []
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    wait_for(page, "() => (window.ran || []).length == 3")


@pytest.mark.parametrize("visit", ["first", "returning"])
def test_a_settings_link_clicked_before_the_snippet_arrives_opens_the_preferences(
    shop, make_live_site, visit
):
    key = make_live_site()
    if visit == "returning":
        page = open_recommended(shop, key)
        # The decision prefetches the core snippet for the next page: let it arrive first,
        # so that the only request held below is the next page's.
        with page.expect_response(re.compile(r".*/s/.*\.core\.js$")):
            page.click(f'{BANNER} [data-accord-action="reject_all"]')
    held = []
    shop.page.route(
        re.compile(re.escape(shop.server.url) + r"/s/.*"), lambda route: held.append(route)
    )
    link = '<a href="#elsewhere" data-accord-open>Privacy settings</a>'
    page = open_recommended(shop, key, link, path=f"/{visit}", wait=False)
    wait_for(page, "() => !!document.querySelector('[data-accord-open]')")
    page.click("[data-accord-open]")
    assert page.locator(PREFS).count() == 0 and len(held) == 1
    assert page.evaluate("() => location.hash") == ""  # the link's default is prevented
    shop.page.unroute(re.compile(re.escape(shop.server.url) + r"/s/.*"))
    held[0].continue_()
    page.locator(PREFS).wait_for()
    assert page.locator(BANNER).count() == 0
    page.click(f'{PREFS} [data-accord-action="close"]')
    page.click("[data-accord-open]")  # now the snippet's own listener, once
    page.locator(PREFS).wait_for()
    assert page.locator(PREFS).count() == 1


def test_early_calls_are_queued_and_applied_in_order(shop, make_live_site):
    key = make_live_site()
    early = (
        "<script>window.got = [];"
        "Accord.on('consent', d => got.push(d.action));"
        "Accord.update({analytics: true});"
        "window.earlyConsent = Accord.getConsent();</script>"
    )
    page = open_recommended(shop, key, TRACKERS_HTML, head=early)
    wait_for(page, "() => got.length == 1")
    assert page.evaluate("() => [got, earlyConsent]") == [["custom"], None]
    wait_for(page, "() => (window.ran || []).length == 2")
    assert page.evaluate("() => ran") == ["analytics", "inline-analytics"]
    assert page.evaluate("() => Accord.getConsent().choices") == {
        "necessary": True,
        "analytics": True,
        "marketing": False,
    }


def test_an_early_show_opens_the_preferences_on_a_returning_visit(shop, make_live_site):
    key = make_live_site()
    page = open_recommended(shop, key)
    page.click(f'{BANNER} [data-accord-action="reject_all"]')
    requests = snippet_requests(shop)
    open_recommended(shop, key, head="<script>Accord.show('preferences')</script>")
    page.locator(PREFS).wait_for()
    assert [p for p in requests if "/ui." in p], requests


def test_a_returning_visitor_loads_the_core_and_the_ui_only_when_it_must_show(shop, make_live_site):
    key = make_live_site()
    requests = snippet_requests(shop)
    page = open_recommended(shop, key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    # The full snippet, asked for in the page's language, then the browser's.
    languages = ",".join(["en", *page.evaluate("() => navigator.languages")])
    full = f"/s/{key}.js?lang={languages}"
    assert requests == [full]
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    wait_for(page, "() => (window.ran || []).length == 3")
    # The full snippet fetches the core one for the next page once the visitor decided (as
    # it decides: before its POST, whose answer is waited for).
    wait_until(lambda: len(requests) >= 2, page=page)
    wait_for_answers(page, [page.evaluate("() => Accord.getConsent()")])
    assert requests == [full, f"/s/{key}.core.js"]
    requests.clear()
    open_recommended(shop, key, "<p>No tracker here.</p>", path="/other")
    after_first_frame(page)
    assert requests == [f"/s/{key}.core.js"]
    assert page.evaluate("() => Accord.getConsent().action") == "accept_all"
    assert page.locator(BANNER).count() == 0
    page.evaluate("() => Accord.show('preferences')")
    page.locator(PREFS).wait_for()
    # The UI, and the visitor's texts in the page's language (the core carries none).
    assert requests[0] == f"/s/{key}.core.js" and len(requests) == 3
    (ui,) = [p for p in requests[1:] if p.endswith(".js")]  # fetched side by side
    assert re.fullmatch(r"/s/ui\.[0-9a-f]{16}\.js", ui)
    assert f"/s/{key}/texts.1.en.json" in requests


def test_a_made_up_decision_cookie_takes_the_core_yet_nothing_blocked_runs(shop, make_live_site):
    """The stub picks the core snippet from the cookie's name alone, and then fetches it only
    after the first paint: a cookie that holds no decision must still get the banner, and
    nothing blocked may run meanwhile or after."""
    key = make_live_site()
    shop.page.context.add_cookies([{"name": "accord_consent", "value": "accept_all", "url": SHOP}])
    requests = snippet_requests(shop)
    page = open_recommended(shop, key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    assert requests[0] == f"/s/{key}.core.js"
    assert page.evaluate("() => window.ran || []") == []
    assert page.evaluate("() => Accord.getConsent()") is None


def test_a_core_from_before_a_deploy_still_gets_the_ui_of_its_build(
    shop, make_live_site, monkeypatch, tmp_path
):
    """After a deploy, a core snippet still cached asks for its own build's UI chunk, which
    the server keeps serving from its archive; without it, no layer could show."""
    key = make_live_site()
    open_recommended(shop, key).click(f'{BANNER} [data-accord-action="reject_all"]')
    old_name, old = snippet.ui_chunk()
    (tmp_path / old_name).write_bytes(old.body)
    monkeypatch.setattr(snippet, "UI_ARCHIVE", tmp_path)
    monkeypatch.setattr(snippet, "_archived", {})
    # The deploy: the server's UI chunk is another build's (the core file stays this one's).
    source = snippet.BUILDS["ui"].read_text(encoding="utf-8") + "\n// the next build\n"
    digest = hashlib.sha256(source.encode()).hexdigest()
    monkeypatch.setitem(snippet._builds, "ui", (0.0, source, digest))
    monkeypatch.setitem(snippet._checked_at, "ui", time.monotonic() + 3600)
    assert snippet.ui_chunk()[0] != old_name
    requests = snippet_requests(shop)
    page = open_recommended(shop, key, path="/after-deploy")
    page.evaluate("() => Accord.show('preferences')")
    page.locator(PREFS).wait_for()
    assert f"/s/{old_name}" in requests


def test_a_returning_visitors_refused_iframe_gets_its_placeholder(shop, make_live_site):
    key = make_live_site()
    page = open_recommended(shop, key, TRACKERS_HTML)
    page.click(f'{BANNER} [data-accord-action="reject_all"]')
    open_recommended(shop, key, TRACKERS_HTML, path="/again")
    placeholder = page.locator('[data-accord="placeholder"]')
    placeholder.wait_for()
    placeholder.locator("button").click()
    wait_for(page, "() => document.querySelector('iframe').src.includes('video.example')")


def test_a_strict_csp_with_the_nonce_filled_in(shop, make_live_site):
    key = make_live_site()
    nonce = strict_csp(shop)
    page = open_recommended(shop, key, TRACKERS_HTML, nonce=nonce)
    banner = page.locator(BANNER)
    banner.wait_for()
    assert banner.evaluate("el => getComputedStyle(el).position") == "fixed"
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    wait_for(page, "() => (window.ran || []).length == 3")
    # Returning: the core snippet, then the UI chunk fetched under the same nonce.
    open_recommended(shop, key, TRACKERS_HTML, nonce=nonce, path="/next")
    page.click("[data-accord-open]")
    prefs = page.locator(PREFS)
    prefs.wait_for()
    assert prefs.evaluate("el => getComputedStyle(el.parentNode).position") == "fixed"
    assert page.evaluate("() => violations") == []
