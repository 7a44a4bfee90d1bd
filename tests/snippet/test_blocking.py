"""Issue 3, points 4 and 5: nothing runs before consent; granted elements activate without
reload, in document order, also when added later; iframes get a placeholder; refusal and
withdrawal delete the declared cookies and storage keys."""

import pytest
from playwright.sync_api import expect

from tests.snippet.conftest import (
    SHOP,
    TRACKERS_HTML,
    after_first_frame,
    count_reloads,
    reloads,
    wait_for,
    wait_for_answers,
    wait_for_consents,
    wait_until,
)

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'


def ran(page):
    return page.evaluate("() => window.ran || []")


def add_sentinel(page, category: str, name: str):
    """Add a blocked inline script of a granted `category` that notes `name` in window.ran:
    scripts run one after another, so once it ran, every script queued before it had its
    turn."""
    page.evaluate(
        """([category, name]) => {
            const s = document.createElement('script');
            s.type = 'text/plain';
            s.dataset.category = category;
            s.text = `(window.ran = window.ran || []).push(${JSON.stringify(name)})`;
            document.body.append(s);
        }""",
        [category, name],
    )


def test_nothing_runs_or_loads_before_consent(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    after_first_frame(page)  # what the snippet left for after its first frame has run too
    assert shop.tracker_requests() == []
    assert ran(page) == []
    assert page.get_attribute("#pixel", "src") is None
    assert page.get_attribute("iframe", "src") is None
    assert set(shop.cookies()) <= {"accord_consent"}


def test_granted_scripts_run_without_reload_in_document_order(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.evaluate("() => Accord.update({analytics: true})")
    wait_for(page, "() => (window.ran || []).length == 2")
    # The external script came first in the page, so it ran first although it had to load.
    assert ran(page) == ["analytics", "inline-analytics"]
    assert not any("ads.example" in url for url in shop.tracker_requests())
    assert page.get_attribute("#pixel", "src") is None

    page.evaluate("() => Accord.update({marketing: true})")
    wait_for(page, "() => (window.ran || []).includes('marketing')")
    assert page.get_attribute("#pixel", "src") == "https://ads.example/pixel.gif"
    assert page.get_attribute("iframe", "src") == "https://video.example/embed/1"
    # Each script ran once: activating a second category does not re-run the first.
    assert ran(page) == ["analytics", "inline-analytics", "marketing"]


def test_a_script_granted_then_withdrawn_before_its_turn_never_runs(shop, make_live_site):
    """Scripts run one after another: one granted while an earlier one still loads, then
    withdrawn before its turn, does not run (and nothing reloads: it never ran); granted
    again, it runs once."""
    key = make_live_site()
    held = []
    shop.page.route("https://ads.example/slow.js", lambda route: held.append(route))
    count_reloads(shop)
    page = shop.open(
        key,
        '<script type="text/plain" data-category="marketing" src="https://ads.example/slow.js">'
        "</script>"
        '<script type="text/plain" data-category="analytics">'
        "(window.ran = window.ran || []).push('late-analytics')</script>",
    )
    decisions = [page.evaluate("() => Accord.acceptAll()")]
    wait_until(lambda: held, page=page)
    decisions.append(
        page.evaluate(
            "() => { window.kept = 1; return Accord.update({analytics: false, marketing: true}); }"
        )
    )
    add_sentinel(page, "marketing", "first-sentinel")  # queued after late-analytics's turn
    held[0].fulfill(
        status=200,
        content_type="text/javascript",
        body="(window.ran = window.ran || []).push('slow-marketing')",
    )
    wait_for(page, "() => (window.ran || []).includes('first-sentinel')")
    wait_for_answers(page, decisions)  # a reload would have started by now
    assert page.evaluate("() => [window.ran, window.kept]") == [
        ["slow-marketing", "first-sentinel"],
        1,
    ]
    assert reloads(page) == 0
    page.evaluate("() => Accord.update({analytics: true, marketing: true})")
    add_sentinel(page, "analytics", "second-sentinel")
    wait_for(page, "() => window.ran.includes('second-sentinel')")
    assert page.evaluate("() => window.ran") == [
        "slow-marketing",
        "first-sentinel",
        "late-analytics",
        "second-sentinel",
    ]


def test_elements_added_later_are_blocked_or_activated(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    page.evaluate("() => Accord.update({analytics: true})")
    page.evaluate(
        """() => {
            for (const [category, name] of [['analytics', 'late-analytics'],
                                            ['marketing', 'late-marketing']]) {
                const s = document.createElement('script');
                s.type = 'text/plain';
                s.dataset.category = category;
                s.src = 'https://tracker.example/' + name + '.js';
                document.body.append(s);
            }
            const img = document.createElement('img');
            img.dataset.category = 'marketing';
            img.dataset.src = 'https://ads.example/late.gif';
            img.alt = '';
            document.body.append(img);
        }"""
    )
    add_sentinel(page, "analytics", "sentinel")  # runs after every script added before it
    wait_for(page, "() => (window.ran || []).includes('sentinel')")
    assert ran(page) == ["late-analytics", "sentinel"]
    assert shop.tracker_requests() == ["https://tracker.example/late-analytics.js"]
    assert page.evaluate("() => document.querySelector('img[data-category]').src") == ""


def test_blocked_iframe_shows_a_placeholder_that_consents_in_place(
    shop, make_live_site, live_server
):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.keyboard.press("Escape")  # close the banner: everything refused
    placeholder = page.locator('[data-accord="placeholder"]')
    expect(placeholder).to_be_visible()
    assert "Advertising" in placeholder.inner_text()
    assert page.locator("iframe").is_hidden()
    placeholder.get_by_role("button", name="Allow and show").click()
    wait_for(page, "() => document.querySelector('iframe').src")
    assert page.locator("iframe").is_visible()
    assert page.locator('[data-accord="placeholder"]').count() == 0
    records = wait_for_consents(live_server, key, 2, page=page)
    assert [r["action"] for r in records] == ["close", "custom"]
    assert records[1]["choices"] == {"necessary": True, "analytics": False, "marketing": True}


def seed_tracker_cookies(shop):
    shop.page.context.add_cookies(
        [
            {"name": "demo_analytics", "value": "1", "url": SHOP},  # host-only
            {"name": "_demo_ga_1", "value": "1", "domain": ".shop.example", "path": "/"},
            {"name": "_demo_ga_2", "value": "1", "domain": ".www.shop.example", "path": "/"},
            {"name": "unrelated", "value": "1", "url": SHOP},
        ]
    )


def test_refusal_deletes_declared_cookies_on_host_and_parent_domains(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    page.evaluate("() => Accord.acceptAll()")
    seed_tracker_cookies(shop)
    page.evaluate("() => { localStorage.setItem('demo_visits', '3'); }")
    events = page.evaluate_handle(
        "() => { const seen = [];"
        " document.addEventListener('accord:consent', e => seen.push(e.detail)); return seen; }"
    )
    page.evaluate("() => Accord.rejectAll()")
    cookies = shop.cookies()
    assert "demo_analytics" not in cookies
    assert "_demo_ga_1" not in cookies
    assert "_demo_ga_2" not in cookies
    assert cookies["unrelated"] == "1"
    assert page.evaluate("() => localStorage.getItem('demo_visits')") is None
    assert page.evaluate("seen => seen.map(d => d.action)", events) == ["reject_all"]


def test_withdrawal_deletes_cookies_and_nothing_reactivates(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.click('[data-accord-action="accept_all"]')
    wait_for(page, "() => (window.ran || []).length == 3")
    seed_tracker_cookies(shop)
    page.click("[data-accord-open]")
    with page.expect_navigation():  # granted code ran: the page reloads (reload_on_withdraw)
        page.locator(PREFS).get_by_role("button", name="Withdraw consent").click()
    assert "demo_analytics" not in shop.cookies()
    wait_for(page, "() => window.Accord?.getConsent?.()?.action == 'withdraw'")
    records = wait_for_consents(live_server, key, 2, page=page)
    assert records[1]["choices"] == {"necessary": True, "analytics": False, "marketing": False}

    shop.requests.clear()
    shop.open(key, TRACKERS_HTML)
    assert page.evaluate("() => Accord.getConsent().action") == "withdraw"  # it holds
    after_first_frame(page)
    assert page.locator(BANNER).count() == 0
    assert ran(page) == []
    assert shop.tracker_requests() == []


def test_stale_tracker_cookies_and_storage_are_deleted_before_any_consent(shop, make_live_site):
    """Left from an earlier visit, the refused categories' cookies and storage keys go
    without any decision, once the banner is painted (the sweep waits for that frame)."""
    key = make_live_site()
    seed_tracker_cookies(shop)
    shop.pages["/before"] = "<!doctype html><title>Before</title>"
    shop.page.goto(SHOP + "/before")
    shop.page.evaluate("() => localStorage.setItem('demo_visits', '3')")
    page = shop.open(key)
    page.locator(BANNER).wait_for()
    wait_until(lambda: "demo_analytics" not in shop.cookies(), page=page)
    wait_until(lambda: page.evaluate("() => localStorage.getItem('demo_visits')") is None)
    assert "_demo_ga_1" not in shop.cookies() and "_demo_ga_2" not in shop.cookies()
    assert shop.cookies()["unrelated"] == "1"
    assert page.evaluate("() => Accord.getConsent()") is None


def test_a_returning_visitors_granted_iframe_loads(shop, make_live_site):
    """The iframe is activated while the parser inserts it: given its src at once, Chromium
    left it at about:blank (issue 14, point 5)."""
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.evaluate("() => Accord.acceptAll()")
    shop.requests.clear()
    page = shop.open(key, TRACKERS_HTML)
    frame = page.frame_locator("iframe").locator("p")
    assert frame.inner_text() == "embedded"
    assert "https://video.example/embed/1" in shop.tracker_requests()
    assert page.locator('[data-accord="placeholder"]').count() == 0
