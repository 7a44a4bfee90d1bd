"""Issue 14, points 3 and 4: closing the banner is recorded as `close`, not as a refusal the
visitor chose; a refusal or a close is not asked again for the site's refusal interval (unless
a revision requires re-consent); a decision that takes away a category whose code ran in the
page reloads it, after `accord:consent` has fired (site option `reload_on_withdraw`)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.snippet.conftest import (
    RELOAD_COUNTER,
    SHOP,
    TRACKERS_HTML,
    after_first_frame,
    decision_cookie,
    reloads,
    republish,
    wait_for,
    wait_for_answers,
    wait_for_consents,
)

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'


def action(page, name, within=BANNER):
    return page.locator(f'{within} [data-accord-action="{name}"]')


@pytest.mark.parametrize("how", ["close button", "Escape"])
def test_closing_the_first_layer_is_recorded_as_close(shop, make_live_site, live_server, how):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    assert action(page, "close").get_attribute("aria-label") == "Close"
    if how == "Escape":
        page.keyboard.press("Escape")
    else:
        action(page, "close").click()
    assert page.locator(BANNER).count() == 0
    decision = page.evaluate("() => Accord.getConsent()")
    assert decision["action"] == "close"
    assert decision["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    (record,) = wait_for_consents(live_server, key, 1, page=page)
    assert record["action"] == "close"
    assert record["choices"] == decision["choices"]
    assert shop.tracker_requests() == []


def test_closing_reopened_preferences_keeps_the_earlier_choice(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key)
    page.evaluate("() => Accord.update({analytics: true})")
    wait_for_consents(live_server, key, 1, page=page)
    page.evaluate("() => Accord.show('preferences')")
    close = action(page, "close", PREFS)
    assert close.get_attribute("aria-label") == "Close"  # not "Close (refuse all)"
    page.locator(PREFS).get_by_label("Advertising").check()  # changed, but not saved
    close.click()
    assert page.locator(PREFS).count() == 0
    decision = page.evaluate("() => Accord.getConsent()")
    assert decision["action"] == "custom"
    assert decision["choices"]["analytics"] is True and decision["choices"]["marketing"] is False
    # A close recorded by mistake would be queued by the click itself: waited for here.
    assert len(wait_for_consents(live_server, key, 1, page=page)) == 1


def age_decision(shop, days):
    """Move the stored decision `days` into the past, as if it had been taken then."""
    decision = decision_cookie(shop)
    decision["decided_at"] = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    shop.page.context.add_cookies(
        [{"name": "accord_consent", "value": quote(json.dumps(decision)), "url": SHOP}]
    )


@pytest.mark.parametrize(
    ("how", "days", "interval", "asked_again"),
    [
        ("close", 100, None, False),  # default interval: 182 days
        ("close", 183, None, True),
        ("close", 100, 90, True),
        ("reject_all", 100, 90, True),
        ("reject_all", 60, 90, False),
        ("reject_all", 100, 365, False),
    ],
)
def test_a_refusal_or_close_is_not_asked_again_for_the_refusal_interval(
    shop, make_live_site, how, days, interval, asked_again
):
    options = {} if interval is None else {"refusal_interval_days": interval}
    # A consent lifetime shorter than the interval: a refusal follows the interval.
    key = make_live_site(consent_lifetime_days=30, **options)
    page = shop.open(key)
    page.locator(BANNER).wait_for()
    if how == "close":
        page.keyboard.press("Escape")
    else:
        action(page, "reject_all").click()
    assert page.locator(BANNER).count() == 0
    age_decision(shop, days)
    page = shop.open(key)
    assert_asked(page, asked_again)


def assert_asked(page, asked: bool):
    """Whether the page asks again: the snippet holds no decision and shows the banner, or
    holds the stored one and, once past its first frame, has shown nothing."""
    assert (page.evaluate("() => Accord.getConsent()") is None) == asked
    if asked:
        page.locator(BANNER).wait_for()
    else:
        after_first_frame(page)
        assert page.locator(BANNER).count() == 0


def test_a_consent_follows_the_consent_lifetime_not_the_refusal_interval(shop, make_live_site):
    key = make_live_site(consent_lifetime_days=30, refusal_interval_days=365)
    page = shop.open(key)
    action(page, "accept_all").click()
    age_decision(shop, 31)
    page = shop.open(key)
    page.locator(BANNER).wait_for()


def test_a_revision_requiring_reconsent_asks_again_after_a_close(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key)
    page.keyboard.press("Escape")
    page = shop.open(key)
    assert_asked(page, False)
    republish(live_server, key, requires_reconsent=True)
    page = shop.open(key)
    page.locator(BANNER).wait_for()


# Each page load and each reload started is counted, and each accord:consent event kept, in
# sessionStorage: they survive the reload, so a test can tell the event fired before it.
WATCH = (
    """
<script>
  sessionStorage.loads = Number(sessionStorage.loads || 0) + 1;
"""
    + RELOAD_COUNTER
    + """
  document.addEventListener('accord:consent', (e) => {
    const seen = JSON.parse(sessionStorage.events || '[]');
    seen.push([Number(sessionStorage.loads), e.detail.action, e.detail.choices.analytics]);
    sessionStorage.events = JSON.stringify(seen);
  });
</script>
"""
)


def loads(page):
    return page.evaluate("() => Number(sessionStorage.loads)")


def test_withdrawing_a_category_whose_code_ran_reloads_the_page(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key, WATCH + TRACKERS_HTML)
    page.evaluate("() => Accord.update({analytics: true})")
    wait_for(page, "() => (window.ran || []).length == 2")
    assert loads(page) == 1
    with page.expect_navigation():
        page.evaluate("() => Accord.update({analytics: false})")
    wait_for(page, "() => !!window.Accord")
    assert loads(page) == 2 and reloads(page) == 1
    events = json.loads(page.evaluate("() => sessionStorage.events"))
    assert events == [[1, "custom", True], [1, "custom", False]]  # both before the reload
    # After the reload the analytics code did not run again, and both decisions are recorded.
    assert page.evaluate("() => window.ran || []") == []
    records = wait_for_consents(live_server, key, 2, page=page)
    assert [r["choices"]["analytics"] for r in records] == [True, False]


def test_no_reload_when_the_category_taken_away_never_ran(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, WATCH + TRACKERS_HTML)
    decisions = [page.evaluate("() => Accord.update({analytics: true})")]
    wait_for(page, "() => (window.ran || []).length == 2")
    decisions.append(page.evaluate("() => Accord.update({marketing: false})"))  # never ran
    decisions.append(page.evaluate("() => Accord.update({analytics: true, marketing: true})"))
    wait_for(page, "() => (window.ran || []).includes('marketing')")
    # A reload waits for the decision's POST: each has had its answer, and none started one.
    wait_for_answers(page, decisions)
    assert reloads(page) == 0 and loads(page) == 1


def test_reload_on_withdraw_false_keeps_the_page(shop, make_live_site):
    key = make_live_site(reload_on_withdraw=False)
    page = shop.open(key, WATCH + TRACKERS_HTML)
    decisions = [page.evaluate("() => Accord.acceptAll()")]
    wait_for(page, "() => (window.ran || []).length == 3")
    decisions.append(page.evaluate("() => Accord.rejectAll()"))
    wait_for_answers(page, decisions)  # as above: no reload started once they were answered
    assert reloads(page) == 0 and loads(page) == 1
    assert page.evaluate("() => Accord.getConsent().action") == "reject_all"
