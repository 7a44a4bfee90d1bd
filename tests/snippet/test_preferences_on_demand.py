"""Issue #14: a first visit's snippet carries the first layer only; the preferences dialog
(its code and styles, in the UI chunk /s/ui.<hash>.js, and its texts, /s/KEY/texts.REV.LANG.json)
is fetched when the visitor shows the intent to open it (pointing at, focusing or touching
Customize), and opened on the click as soon as it is here. If it cannot be had, the banner says
so with a button to try again, and Accept / Refuse keep working."""

import re

import pytest

from tests.fixtures.browser import run_axe
from tests.snippet.conftest import after_first_frame, wait_for, wait_for_consents
from tests.snippet.test_first_paint import open_recommended, snippet_requests

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'
CUSTOMIZE = f'{BANNER} [data-accord-action="customize"]'
UI_CHUNK = re.compile(r"/s/ui\.[0-9a-f]{16}\.js$")


def dialog_requests(requests: list[str], key: str) -> list[str]:
    """The UI chunk and texts file requests among `requests`."""
    return [p for p in requests if UI_CHUNK.search(p) or p.startswith(f"/s/{key}/texts.")]


def test_the_dialog_is_fetched_on_intent_not_before_and_opens_on_the_click(shop, make_live_site):
    key = make_live_site()
    requests = snippet_requests(shop)
    page = open_recommended(shop, key)
    page.locator(BANNER).wait_for()
    after_first_frame(page)  # past all the snippet does as the page loads
    assert page.evaluate("() => window.__accordUi") is None
    assert dialog_requests(requests, key) == []  # the first layer alone
    assert len(requests) == 1 and requests[0].startswith(f"/s/{key}.js?lang=")
    page.hover(CUSTOMIZE)  # the intent: the chunk and the texts, before any click
    wait_for(page, "() => !!window.__accordUi")
    fetched = dialog_requests(requests, key)
    assert len(fetched) == 2 and f"/s/{key}/texts.1.en.json" in fetched
    assert page.locator(PREFS).count() == 0
    page.click(CUSTOMIZE)
    prefs = page.locator(PREFS)
    prefs.wait_for()
    # The dialog's texts: categories' descriptions, trackers, its own buttons and styles.
    assert prefs.get_by_text("Counts visits to improve the site.").count() == 1
    assert prefs.get_by_role("button", name="Save choices").count() == 1
    assert prefs.evaluate("el => getComputedStyle(el.parentNode).position") == "fixed"
    assert prefs.locator('input[role="switch"]').count() == 3
    assert dialog_requests(requests, key) == fetched  # once
    prefs.locator('input[name="analytics"]').check()
    prefs.get_by_role("button", name="Save choices").click()
    (record,) = wait_for_consents(shop.server, key, 1, page=page)
    assert record["action"] == "custom" and record["choices"]["analytics"] is True


def test_focusing_customize_fetches_the_dialog(shop, make_live_site):
    key = make_live_site()
    requests = snippet_requests(shop)
    page = open_recommended(shop, key)
    page.locator(BANNER).wait_for()
    page.focus(CUSTOMIZE)
    wait_for(page, "() => !!window.__accordUi")
    assert len(dialog_requests(requests, key)) == 2
    page.keyboard.press("Enter")
    page.locator(PREFS).wait_for()


def test_pointing_at_a_settings_link_fetches_the_dialog(shop, make_live_site):
    key = make_live_site()
    requests = snippet_requests(shop)
    page = open_recommended(shop, key, '<a href="#x" data-accord-open>Privacy settings</a>')
    page.locator(BANNER).wait_for()
    after_first_frame(page)
    assert page.evaluate("() => window.__accordUi") is None
    assert dialog_requests(requests, key) == []
    page.hover("[data-accord-open]")
    wait_for(page, "() => !!window.__accordUi")
    assert len(dialog_requests(requests, key)) == 2


def test_a_click_before_the_dialog_arrives_waits_busy_then_opens(shop, make_live_site):
    key = make_live_site()
    page = open_recommended(shop, key)
    page.locator(BANNER).wait_for()
    held = []
    page.route(UI_CHUNK, lambda route: held.append(route))
    button = page.locator(CUSTOMIZE)
    box = button.bounding_box()
    page.click(CUSTOMIZE)
    wait_for(page, "() => document.querySelector('[aria-busy]')")
    assert button.get_attribute("aria-busy") == "true"
    assert button.bounding_box() == box  # nothing moves while it waits
    assert page.locator(PREFS).count() == 0 and len(held) == 1
    held[0].continue_()
    page.locator(PREFS).wait_for()
    assert page.locator("[aria-busy]").count() == 0


@pytest.mark.parametrize("failure", ["offline", "5xx"])
def test_a_dialog_that_cannot_be_had_is_said_and_accept_still_records(
    shop, make_live_site, failure
):
    key = make_live_site()
    page = open_recommended(shop, key)
    page.locator(BANNER).wait_for()
    if failure == "offline":
        page.route(UI_CHUNK, lambda route: route.abort("internetdisconnected"))
    else:
        page.route(UI_CHUNK, lambda route: route.fulfill(status=503, body="busy"))
    page.click(CUSTOMIZE)
    alert = page.locator(f"{BANNER} [role=alert]")
    alert.wait_for()
    assert "could not be loaded" in alert.inner_text()
    assert alert.get_by_role("button", name="Try again").count() == 1
    assert page.locator(PREFS).count() == 0 and page.locator("[aria-busy]").count() == 0
    assert run_axe(page) == []
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    (record,) = wait_for_consents(shop.server, key, 1, page=page)
    assert record["action"] == "accept_all"
    assert page.locator(BANNER).count() == 0


def test_try_again_opens_the_dialog_once_it_can_be_had(shop, make_live_site):
    key = make_live_site()
    page = open_recommended(shop, key)
    page.locator(BANNER).wait_for()
    page.route(UI_CHUNK, lambda route: route.fulfill(status=503, body="busy"))
    page.click(CUSTOMIZE)
    retry = page.locator(f"{BANNER} [role=alert]").get_by_role("button", name="Try again")
    retry.wait_for()
    first = retry.element_handle()
    retry.click()  # still failing: one message, not two
    # The failure's message is put in place of the first one (and its button): once that
    # one has gone, the new one is there.
    wait_for(page, "el => !el.isConnected", arg=first)
    assert page.locator(f"{BANNER} [role=alert]").count() == 1
    page.unroute(UI_CHUNK)
    page.locator(f"{BANNER} [role=alert]").get_by_role("button", name="Try again").click()
    page.locator(PREFS).wait_for()
    assert page.locator(BANNER).count() == 0


def test_an_early_show_preferences_on_a_first_visit(shop, make_live_site):
    """Accord.show('preferences') called before the snippet arrived (the stub's queue):
    the dialog is fetched and opened, in place of the banner."""
    key = make_live_site()
    requests = snippet_requests(shop)
    page = open_recommended(shop, key, head="<script>Accord.show('preferences')</script>")
    prefs = page.locator(PREFS)
    prefs.wait_for()
    assert prefs.get_by_text("Counts visits to improve the site.").count() == 1
    assert page.locator(BANNER).count() == 0
    assert len(dialog_requests(requests, key)) == 2
    prefs.locator('[data-accord-action="reject_all"]').click()
    (record,) = wait_for_consents(shop.server, key, 1, page=page)
    assert record["action"] == "reject_all"
