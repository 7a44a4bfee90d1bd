"""The device secret in the browser (DESIGN.md, "Device secret"): the snippet makes one per
device, keeps it in localStorage beside the decision, and sends it with every consent (fetch,
retries from the queue, sendBeacon) and with the history and erasure requests; the cookie,
`Accord.getConsent()` and the `accord:consent` event never hold it. What the cookie gives
away (to the site's server, or any script that reads cookies) opens nothing.
"""

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from tests.snippet.conftest import (
    count_fetches,
    decision_cookie,
    new_uuid,
    wait_for_consents,
    wait_for_failed_fetches,
    wait_until,
)

pytestmark = pytest.mark.browser

PREFS = '[data-accord="preferences"]'
BASE64URL = re.compile(r"[A-Za-z0-9_-]{22,128}\Z")
HEADER = "accord-device-secret"


def stored_secret(page) -> str | None:
    return json.loads(page.evaluate("() => localStorage.getItem('accord_secret')") or "null")


def bound_hash(live_server, site_key, device_id):
    from cmp_server.extensions import db
    from cmp_server.models import DeviceSecret, Site

    with live_server.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.site_key == site_key))
        found = db.session.scalar(
            select(DeviceSecret.secret_hash).where(
                DeviceSecret.site_id == site_id, DeviceSecret.device_id == device_id
            )
        )
        db.session.remove()
    return found


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Requests:
    """The Accord API requests a page makes: (method, url, headers, body)."""

    def __init__(self, page, live_server):
        self.seen = []
        page.on("request", self._record)
        self.prefix = live_server.url + "/api/"

    def _record(self, request):
        if request.url.startswith(self.prefix):
            self.seen.append((request.method, request.url, request.headers, request.post_data))

    def posted(self) -> list[dict]:
        return [json.loads(body) for method, _, _, body in self.seen if method == "POST"]

    def to_device(self, method) -> list[dict]:
        return [headers for m, url, headers, _ in self.seen if m == method and "/devices/" in url]


def test_every_consent_carries_the_secret_and_nothing_readable_holds_it(
    shop, make_live_site, live_server
):
    key = make_live_site()
    page = shop.open(key)
    sent = Requests(page, live_server)
    events = page.evaluate_handle(
        "() => { const seen = []; Accord.on('consent', (d) => seen.push(JSON.stringify(d)));"
        " return seen; }"
    )
    page.click('[data-accord="banner"] [data-accord-action="accept_all"]')
    decision = page.evaluate("() => Accord.update({marketing: false})")
    wait_for_consents(live_server, key, 2, page=page)
    wait_until(lambda: len(sent.posted()) == 2, page=page)

    secret = stored_secret(page)
    assert BASE64URL.match(secret), secret
    assert [body["device_secret"] for body in sent.posted()] == [secret, secret]
    # Out of everything the page's other scripts and the site's server see.
    assert "device_secret" not in decision
    assert secret not in json.dumps(page.evaluate("() => Accord.getConsent()"))
    assert secret not in page.evaluate("() => document.cookie")
    assert secret not in json.dumps(decision_cookie(shop))
    assert all(secret not in detail for detail in events.json_value())
    # The server keeps only its hash, bound to this device.
    assert bound_hash(live_server, key, decision["device_id"]) == sha256(secret)

    # The next page load, and its decisions, use the same secret.
    shop.open(key)
    page.evaluate("() => Accord.rejectAll()")
    wait_for_consents(live_server, key, 3, page=page)
    assert stored_secret(page) == secret
    assert sent.posted()[-1]["device_secret"] == secret


def test_history_and_erasure_present_the_secret(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key)
    sent = Requests(page, live_server)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for_consents(live_server, key, 1, page=page)
    secret = stored_secret(page)

    page.evaluate("() => Accord.show('preferences')")
    with page.expect_download() as info:
        page.locator(PREFS).get_by_role("button", name="Download my consent history").click()
    with open(info.value.path()) as f:
        history = json.load(f)
    assert [c["consent_id"] for c in history["consents"]] == [decision["consent_id"]]
    assert [h.get(HEADER) for h in sent.to_device("GET")] == [secret]
    assert secret not in json.dumps(history)  # the download holds no secret either

    page.once("dialog", lambda dialog: dialog.accept())  # "Erase …? This cannot be undone."
    page.locator(PREFS).get_by_role("button", name="Erase my data").click()
    page.locator('[data-accord="banner"]').wait_for()
    assert [h.get(HEADER) for h in sent.to_device("DELETE")] == [secret]
    # Erased: the server unbound it, and the browser forgot it with the device ID.
    assert bound_hash(live_server, key, decision["device_id"]) is None
    assert stored_secret(page) is None
    again = page.evaluate("() => Accord.rejectAll()")
    wait_for_consents(live_server, key, 2, page=page)
    assert again["device_id"] != decision["device_id"]
    assert stored_secret(page) not in (None, secret)


def test_a_beacon_carries_the_secret(shop, make_live_site, live_server):
    """sendBeacon cannot set a header: the secret is a field of the body it sends."""
    key = make_live_site()
    page = shop.open(key)
    page.route(f"{live_server.url}/api/v1/sites/{key}/consents", lambda route: route.abort())
    page.evaluate(
        "() => { window.beacons = [];"
        " navigator.sendBeacon = (url, body) => (window.beacons.push(body), true); }"
    )
    count_fetches(page)
    decision = page.evaluate("() => Accord.rejectAll()")
    # Its POST failed: no longer under way, the queued decision is the beacon's to send.
    wait_for_failed_fetches(page, 1)
    page.evaluate("() => dispatchEvent(new Event('pagehide'))")
    [beacon] = [json.loads(b) for b in page.evaluate("() => window.beacons")]
    assert beacon["consent_id"] == decision["consent_id"]
    assert beacon["device_secret"] == stored_secret(page)


def test_a_decision_queued_before_the_upgrade_is_sent_with_the_secret(
    shop, make_live_site, live_server
):
    """The queue an older snippet left (records without a secret) goes out with one: the
    first of the device's consents to reach the server binds it."""
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for_consents(live_server, key, 1, page=page)
    old = {
        "consent_id": new_uuid(),
        "device_id": new_uuid(),
        "revision": 1,
        "action": "reject_all",
        "choices": {"necessary": True, "analytics": False, "marketing": False},
        "language": "en",
        "page_url": "https://www.shop.example/",
        "gpc": False,
        "client_ts": decision["decided_at"],
    }
    page.evaluate(
        "(old) => { localStorage.setItem('accord_queue', JSON.stringify([old]));"
        " localStorage.removeItem('accord_secret'); }",
        old,
    )
    shop.open(key)
    records = wait_for_consents(live_server, key, 2, page=page)
    assert records[-1]["consent_id"] == old["consent_id"]
    assert bound_hash(live_server, key, old["device_id"]) == sha256(stored_secret(page))


def test_the_cookie_alone_opens_nothing(shop, make_live_site, live_server):
    """What the decision cookie gives away (the site's server receives it, any script reads
    it): the device ID. With it, a script on the page neither reads nor erases the device's
    history, nor records a decision for it."""
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for_consents(live_server, key, 1, page=page)
    statuses = page.evaluate(
        """async ([api, revision]) => {
            const cookie = document.cookie.split('; ').find((c) => c.startsWith('accord_consent='));
            const stolen = JSON.parse(decodeURIComponent(cookie.split('=')[1])).device_id;
            const url = `${api}/devices/${stolen}/consents`;
            const read = await fetch(url);
            const erase = await fetch(url, {method: 'DELETE'});
            const forged = await fetch(`${api}/consents`, {method: 'POST', body: JSON.stringify({
                consent_id: crypto.randomUUID(), device_id: stolen, revision,
                action: 'reject_all', device_secret: 'forged-secret-0123456789abcdef',
                choices: {necessary: true, analytics: false, marketing: false}})});
            return [read.status, erase.status, forged.status, (await forged.json()).error.code];
        }""",
        [f"{live_server.url}/api/v1/sites/{key}", decision["revision"]],
    )
    assert statuses == [403, 403, 403, "device_secret_mismatch"]
    (record,) = wait_for_consents(live_server, key, 1, page=page)
    assert record["device_id"] == decision["device_id"]
