"""Visitor rights in the preferences (DESIGN.md, the visitor "sees their consent ID and
history, downloads their receipt, asks for erasure"): the download holds the server's
history and every signed receipt the snippet kept; "Erase my data" erases the device's
records on the server, forgets the local decision and asks again."""

import json

import pytest
from sqlalchemy import func, select

from tests.snippet.conftest import (
    SHOP,
    TRACKERS_HTML,
    after_first_frame,
    count_fetches,
    decision_cookie,
    wait_for,
    wait_for_consents,
    wait_until,
)

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'
LOCAL_KEYS = (
    "() => ['accord_device', 'accord_secret', 'accord_queue', 'accord_receipts']"
    ".map(k => localStorage.getItem(k))"
)


def device_rows(live_server, site_key, device_id) -> tuple[int, int]:
    """(records still naming the device, erased records) of the site, in the database."""
    from cmp_server.extensions import db
    from cmp_server.models import ConsentRecord, Site

    with live_server.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.site_key == site_key))
        mine = db.session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.site_id == site_id, ConsentRecord.device_id == device_id)
        )
        erased = db.session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.site_id == site_id, ConsentRecord.erased_at.is_not(None))
        )
        db.session.remove()
    return mine, erased


def receipts(page) -> dict:
    return json.loads(page.evaluate("() => localStorage.getItem('accord_receipts')") or "{}")


def test_download_holds_the_server_history_and_every_kept_receipt(
    shop, make_live_site, live_server
):
    key = make_live_site()
    page = shop.open(key)
    first = page.evaluate("() => Accord.acceptAll()")
    second = page.evaluate("() => Accord.update({marketing: false})")
    wait_for_consents(live_server, key, 2, page=page)
    wait_until(lambda: len(receipts(page)) == 2, page=page)
    page.evaluate("() => Accord.show('preferences')")
    with page.expect_download() as info:
        page.locator(PREFS).get_by_role("button", name="Download my consent history").click()
    with open(info.value.path()) as f:
        history = json.load(f)
    ids = [first["consent_id"], second["consent_id"]]
    assert history["device_id"] == first["device_id"]
    assert [c["consent_id"] for c in history["consents"]] == ids
    assert history["decision"] == second
    assert list(history["receipts"]) == ids
    for consent_id, receipt in history["receipts"].items():
        assert receipt["consent_id"] == consent_id
        assert {"received_at", "expires_at", "hash"} <= set(receipt)


def test_erase_my_data_erases_the_records_and_asks_again(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.click(f'{BANNER} [data-accord-action="accept_all"]')
    wait_for(page, "() => (window.ran || []).includes('marketing')")
    with page.expect_navigation():  # marketing's code ran: taking it away reloads the page
        decision = page.evaluate("() => Accord.update({marketing: false})")
    wait_for(page, "() => !!window.Accord")
    wait_for_consents(live_server, key, 2, page=page)
    wait_until(lambda: len(receipts(page)) == 2, page=page)
    device = decision["device_id"]
    # A cookie the demo site declares for analytics (granted until the erasure).
    shop.page.context.add_cookies([{"name": "demo_analytics", "value": "1", "url": SHOP}])
    assert device_rows(live_server, key, device) == (2, 0)

    page.click("[data-accord-open]")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator(PREFS).get_by_role("button", name="Erase my data").click()
    banner = page.locator(BANNER)
    banner.wait_for()
    assert "Your data has been erased." in banner.inner_text()
    assert page.locator(PREFS).count() == 0
    assert asked == [
        "Erase your consent records on this device and on our server? This cannot be undone."
    ]

    # On the server: the device's records are erased (the log keeps their place).
    assert device_rows(live_server, key, device) == (0, 2)
    # Here: no decision, no cookie, nothing queued or kept.
    assert page.evaluate("() => Accord.getConsent()") is None
    assert decision_cookie(shop) is None
    assert set(page.evaluate(LOCAL_KEYS)) <= {None, "null"}
    # Analytics was granted: its declared cookie goes now that opt_in's defaults apply.
    assert "demo_analytics" not in shop.cookies()

    # A new page: banner again, nothing non-essential runs until a new decision.
    shop.requests.clear()
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    after_first_frame(page)
    assert shop.tracker_requests() == []
    assert page.evaluate("() => window.ran") is None

    # The next decision starts a new device history.
    again = page.evaluate("() => Accord.rejectAll()")
    assert again["device_id"] != device
    records = wait_for_consents(live_server, key, 3, page=page)  # the erased keep their place
    assert [r["device_id"] for r in records] == [None, None, again["device_id"]]


def history_url(live_server, key, decision):
    return f"{live_server.url}/api/v1/sites/{key}/devices/{decision['device_id']}/consents"


def cut_off(page, url, failure, **refusal):
    """Make `url` fail for `page`: answered with `refusal` (route.fulfill's arguments) when
    `failure` is "refused", else ("offline") not reached at all."""
    if failure == "refused":
        page.route(url, lambda route: route.fulfill(**refusal))
    else:
        page.route(url, lambda route: route.abort("internetdisconnected"))


@pytest.mark.parametrize("failure", ["refused", "offline"])
def test_an_erasure_that_fails_changes_nothing_and_says_so(
    shop, make_live_site, live_server, failure
):
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for_consents(live_server, key, 1, page=page)
    cut_off(page, history_url(live_server, key, decision), failure, status=503, body="{}")
    page.evaluate("() => Accord.show('preferences')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(PREFS).get_by_role("button", name="Erase my data").click()
    alert = page.locator(PREFS).get_by_role("alert")
    assert alert.inner_text() == "Could not reach the server: nothing was erased. Try again later."
    assert page.evaluate("() => Accord.getConsent()") == decision
    assert decision_cookie(shop) == decision
    assert page.locator(BANNER).count() == 0
    assert device_rows(live_server, key, decision["device_id"]) == (1, 0)


def test_erase_my_data_asks_first_and_a_no_erases_nothing(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for_consents(live_server, key, 1, page=page)
    page.evaluate("() => Accord.show('preferences')")
    count_fetches(page)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator(PREFS).get_by_role("button", name="Erase my data").click()
    # The click's handler asked, had its "no", and ended: it started no request (an erasure
    # needs one), and nothing of it is left to come.
    assert len(asked) == 1 and page.evaluate("() => window.fetches") == 0
    assert page.locator(PREFS).is_visible()
    assert page.evaluate("() => Accord.getConsent()") == decision
    assert device_rows(live_server, key, decision["device_id"]) == (1, 0)


@pytest.mark.parametrize("failure", ["refused", "offline"])
def test_a_download_without_the_server_holds_what_the_device_kept_and_says_so(
    shop, make_live_site, live_server, failure
):
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_until(lambda: len(receipts(page)) == 1, page=page)
    cut_off(
        page,
        history_url(live_server, key, decision),
        failure,
        status=500,
        content_type="application/json",
        body='{"error": {"code": "boom"}}',
    )
    page.evaluate("() => Accord.show('preferences')")
    with page.expect_download() as info:
        page.locator(PREFS).get_by_role("button", name="Download my consent history").click()
    with open(info.value.path()) as f:
        history = json.load(f)
    assert set(history) == {"decision", "receipts"}  # no server error dressed up as history
    assert history["decision"] == decision
    assert list(history["receipts"]) == [decision["consent_id"]]
    assert page.locator(PREFS).get_by_role("alert").inner_text() == (
        "Could not reach the server: the file holds only what this device kept."
    )
