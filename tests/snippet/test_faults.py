"""Issue 6, point 3: the server fails while the visitor decides (500, 503, a hang, down).

The visitor's choice applies at once whatever the server does (banner closed, granted
trackers run, cookie written); once the server is back the record arrives exactly once:
from the same page, from the next page (the queue in localStorage), or by sendBeacon when
the page is hidden.
"""

import threading

import pytest

from tests.snippet.conftest import (
    TRACKERS_HTML,
    a_later_page_sends_nothing,
    decision_cookie,
    stored_consents,
    wait_for,
    wait_for_consents,
    wait_until,
)

# Each test installs Playwright's clock, which is its context's.
pytestmark = [pytest.mark.browser, pytest.mark.own_context]

BANNER = '[data-accord="banner"]'
# 429: a visitor behind a busy network hits the consent rate limit; the decision must wait
# in the queue and be sent again, not be dropped (issue 11, point 14).
FAULTS = ["500", "503", "429", "hang", "refused", "aborted"]


def consents_url(live_server, key):
    return f"{live_server.url}/api/v1/sites/{key}/consents"


class Fault:
    """A route on the consent POST that fails the way `kind` says; `held` are hung requests."""

    def __init__(self, kind):
        self.kind = kind
        self.attempts = 0
        self.held = []
        self.released = threading.Event()

    def __call__(self, route):
        self.attempts += 1
        if self.kind in ("500", "503", "429"):
            headers = {"Retry-After": "1"} if self.kind != "500" else {}
            route.fulfill(status=int(self.kind), headers=headers, body='{"error": {}}')
        elif self.kind == "refused":
            route.abort("connectionrefused")
        elif self.kind == "aborted":
            route.abort("connectionaborted")
        else:  # hang: never answered while the fault lasts
            self.held.append(route)

    def release(self):
        """The server is back: hung requests fail now (the browser gives up on them)."""
        for route in self.held:
            route.abort("timedout")
        self.held.clear()


def decide_during(shop, live_server, key, kind):
    # Playwright's clock (time flows as usual until a test moves it on): the retries' backoff
    # timers run when `assert_recorded_once` fast-forwards, not after seconds of real time.
    shop.page.clock.install()
    page = shop.open(key, TRACKERS_HTML)
    fault = Fault(kind)
    page.route(consents_url(live_server, key), fault)
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    # The choice applies at once.
    assert page.locator(BANNER).count() == 0
    wait_for(page, "() => (window.ran || []).length == 3")
    cookie = decision_cookie(shop)
    assert cookie["action"] == "accept_all"
    # Every POST of the decision meets the fault (the route takes them all): none is stored.
    wait_until(lambda: fault.attempts >= 1, page=page)
    assert stored_consents(live_server, key) == []
    queued = page.evaluate("() => JSON.parse(localStorage.getItem('accord_queue'))")
    assert [r["consent_id"] for r in queued] == [cookie["consent_id"]]
    return page, fault, cookie


def assert_recorded_once(live_server, key, cookie, page, retries=True):
    if retries:  # the same page retries: move its clock a second on at each poll
        wait_until(
            lambda: stored_consents(live_server, key) or page.clock.fast_forward(1000),
            timeout=15,
            page=page,
        )
    (record,) = wait_for_consents(live_server, key, 1, timeout=15, page=page)
    assert record["consent_id"] == cookie["consent_id"]
    assert record["action"] == "accept_all"


@pytest.mark.parametrize("kind", FAULTS)
def test_the_choice_applies_at_once_and_arrives_once_the_server_is_back(
    shop, make_live_site, live_server, kind
):
    key = make_live_site()
    page, fault, cookie = decide_during(shop, live_server, key, kind)
    page.unroute(consents_url(live_server, key))
    fault.release()
    # The retry (backoff 2 s, then 4 s) sends it from the same page.
    assert_recorded_once(live_server, key, cookie, page=page)
    wait_for(page, "() => localStorage.getItem('accord_queue') == '[]'")
    a_later_page_sends_nothing(shop, live_server, key)


@pytest.mark.parametrize("kind", ["503", "hang"])
def test_a_reload_replays_the_queued_decision_once(shop, make_live_site, live_server, kind):
    key = make_live_site()
    page, fault, cookie = decide_during(shop, live_server, key, kind)
    fault.release()
    page.unroute_all(behavior="ignoreErrors")
    shop.__post_init__()  # the shop's own routes again
    shop.open(key, TRACKERS_HTML)
    assert page.locator(BANNER).count() == 0  # the cookie holds the decision
    assert_recorded_once(live_server, key, cookie, page=page)
    wait_for(page, "() => localStorage.getItem('accord_queue') == '[]'")
    a_later_page_sends_nothing(shop, live_server, key)


@pytest.mark.parametrize("kind", ["500", "aborted"])
def test_leaving_the_page_hands_the_queued_decision_on_once(
    shop, make_live_site, live_server, kind
):
    """On page hide the queue goes out by sendBeacon and stays queued, so the next page
    replays it: the record arrives exactly once either way. (Which of the two delivers it
    depends on Chromium dropping unload-time requests while Playwright intercepts the page,
    so the test asserts the outcome, not the path.)"""
    key = make_live_site()
    page, fault, cookie = decide_during(shop, live_server, key, kind)
    fault.release()
    page.unroute_all(behavior="ignoreErrors")
    page.goto("about:blank")  # pagehide: sendBeacon
    shop.__post_init__()
    shop.open(key)
    wait_for(page, "() => localStorage.getItem('accord_queue') == '[]'")
    assert_recorded_once(live_server, key, cookie, page, retries=False)
    a_later_page_sends_nothing(shop, live_server, key)
