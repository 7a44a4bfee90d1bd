"""Fixtures for the snippet's browser tests: sites on the live server and a customer page.

The customer page lives at https://www.shop.example (answered by Playwright's routing, so no
DNS and no network) and loads the snippet from the live Accord server, cross-origin, as on
a real site. Tracker hosts (tracker.example, ads.example, video.example) are answered by
routing too, and every request to them is recorded in `shop.requests`.
"""

import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from tests.fixtures.browser import screenshot

SHOP = "https://www.shop.example"
TRACKER_HOSTS = ("https://tracker.example", "https://ads.example", "https://video.example")
# Requests the shop's pages answer: the shop's own and the trackers'.
ROUTED = re.compile("^(?:" + "|".join(re.escape(h + "/") for h in (SHOP, *TRACKER_HOSTS)) + ")")

# A tracker script: reports that it ran (and in which order) and sets its cookie.
TRACKER_JS = """
window.ran = (window.ran || []).concat(%(name)r);
document.cookie = %(cookie)r + '=1; path=/; max-age=3600';
"""
PIXEL_GIF = bytes.fromhex(
    "47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"
)


def demo_config(**overrides) -> dict:
    from cmp_server.services.demo import demo_site_config

    config = demo_site_config([SHOP])
    config.update(overrides)
    return config


@pytest.fixture
def make_live_site(live_server):
    """make_live_site(**config overrides) -> site_key of a new published site on the server."""

    def make(requires_reconsent=None, **overrides):
        from cmp_server.extensions import db
        from cmp_server.services import revisions, sites

        with live_server.app_context():
            site = sites.import_site(demo_config(**overrides))
            revisions.publish_revision(site, requires_reconsent=requires_reconsent)
            db.session.commit()
            key = site.site_key
            db.session.remove()
        return key

    return make


def republish(live_server, site_key, requires_reconsent=None, **overrides):
    """Publish a new revision of the site with `overrides` applied to its configuration."""
    from cmp_server.extensions import db
    from cmp_server.services import lookup, revisions, sites

    with live_server.app_context():
        site = sites.get_site(site_key)
        sites.import_site({**sites.export_site(site), **overrides}, site)
        revision = revisions.publish_revision(site, requires_reconsent=requires_reconsent)
        db.session.commit()
        number = revision.number
        db.session.remove()
    lookup.forget_site(site_key)
    return number


def stored_consents(live_server, site_key) -> list:
    """The site's consent records in the database, oldest first, as plain dicts."""
    from cmp_server.extensions import db
    from cmp_server.models import ConsentRecord, Site

    with live_server.app_context():
        site = db.session.scalar(select(Site).where(Site.site_key == site_key))
        rows = db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.site_id == site.id, ConsentRecord.entry_type == "consent")
            .order_by(ConsentRecord.position)
        ).all()
        records = [
            {
                "consent_id": r.consent_id,
                "device_id": r.device_id,
                "action": r.action,
                "choices": dict(r.choices),
                "regime": r.regime,
                "gpc": r.gpc,
                "language": r.language,
                "revision": r.revision,
                "page_url": r.page_url,
            }
            for r in rows
        ]
        db.session.remove()
    return records


@dataclass
class Shop:
    """A customer's page with the snippet: `open(body, ...)` and what was requested."""

    page: object
    server: object
    requests: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)
    csp: str | None = None
    loads: int = 0

    def __post_init__(self):
        # The shop is a public https origin; the Accord server is on loopback, which
        # Chromium's Local Network Access asks permission for.
        self.page.context.grant_permissions(["local-network-access"])
        self.page.route(ROUTED, self._serve)  # one route for all: each costs a round trip

    def _serve(self, route):
        if route.request.url.startswith(SHOP + "/"):
            self._serve_page(route)
        else:
            self._serve_tracker(route)

    def _serve_page(self, route):
        path = route.request.url.removeprefix(SHOP).split("?")[0] or "/"
        html = self.pages.get(path)
        if html is None:
            route.fulfill(status=404, body="not found")
            return
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if self.csp:
            headers["Content-Security-Policy"] = self.csp
        route.fulfill(status=200, headers=headers, body=html)

    def _serve_tracker(self, route):
        url = route.request.url
        self.requests.append(url)
        name = url.rsplit("/", 1)[-1]
        if url.endswith(".js"):
            stem = name.removesuffix(".js")
            body = TRACKER_JS % {"name": stem, "cookie": "_" + stem.replace("-", "_")}
            route.fulfill(status=200, content_type="text/javascript", body=body)
        elif url.endswith(".gif"):
            route.fulfill(status=200, content_type="image/gif", body=PIXEL_GIF)
        else:
            route.fulfill(status=200, content_type="text/html", body="<p>embedded</p>")

    def html(self, site_key, body="", head="", lang="en", nonce=None):
        nonce_attr = f' nonce="{nonce}"' if nonce else ""
        # A fresh query string each time: the snippet may be cached for a minute, and a
        # test that publishes a new revision wants it at once.
        self.loads += 1
        src = f"{self.server.url}/s/{site_key}.js?load={self.loads}"
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>Shop</title>"
            f'<script src="{src}"{nonce_attr}></script>{head}'
            f"</head><body><main><h1>Shop</h1>{body}</main></body></html>"
        )

    def open(self, site_key, body="", head="", lang="en", path="/", nonce=None, wait=True):
        """Serve and load a page with the snippet; waits for the banner unless told not to."""
        self.pages[path] = self.html(site_key, body, head, lang, nonce)
        self.page.goto(SHOP + path)
        if wait:
            wait_for(self.page, "() => !!window.Accord")
        return self.page

    def tracker_requests(self):
        return [u for u in self.requests if u.startswith(TRACKER_HOSTS)]

    def cookies(self) -> dict:
        return {c["name"]: c["value"] for c in self.page.context.cookies(SHOP)}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "own_context: `shop` in a browser context of its own, not a warm one (for a test that "
        "changes its context beyond what WarmContexts resets, such as Playwright's clock)",
    )


def new_context(browser, init_script=None, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(5000)
    if init_script:
        context.add_init_script(init_script)
    return context


# A page's timers are the browser's own unless Playwright's clock was installed in its context.
NATIVE_TIMERS = "() => Function.prototype.toString.call(setTimeout).includes('[native code]')"


class WarmContexts:
    """Browser contexts kept for the whole run, one per set of context options, each lent to
    one test at a time with a new page in it.

    A new context costs a renderer process and a cold first load; a new page in a warm
    context, less. Whatever a test leaves in the context is taken away before the next test
    gets it: cookies, the storage of the origins the tests use, the HTTP cache, context
    routes, offline. What the test did to its page (routes, init scripts, listeners,
    viewport, CDP emulation, sessionStorage, history) goes with the page. Playwright's clock
    belongs to the context: a context whose clock a test installed is closed, and the test
    fails to say it wants @pytest.mark.own_context.

    Each context keeps a blank page of its own with a CDP session, through which its storage
    and cache are cleared (one session for the context's life, not one per test).
    """

    def __init__(self, browser):
        self.browser = browser
        self.contexts = {}  # options -> (context, its blank page's CDP session)

    def page(self, origins, init_script=None, **options):
        """A new page in the warm context for these options, with nothing left by earlier
        tests; `origins` are those whose storage is cleared."""
        key = json.dumps([init_script, options], sort_keys=True)
        if key not in self.contexts:
            context = new_context(self.browser, init_script, **options)
            self.contexts[key] = context, context.new_cdp_session(context.new_page())
            return context.new_page()
        context, cdp = self.contexts[key]
        context.clear_cookies()
        context.unroute_all()
        context.set_offline(False)
        for origin in origins:
            cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        cdp.send("Network.clearBrowserCache")
        return context.new_page()

    def give_back(self, page):
        """Close the test's pages. Their context stays warm unless the test installed the clock
        there, or left a page that cannot tell (closed, crashed, navigating away)."""
        context = page.context
        try:
            native = page.evaluate(NATIVE_TIMERS)
        except Exception:
            native = None
        if native:
            for each in context.pages[1:]:  # the test's page, and any it opened
                each.close()
            return
        self.contexts = {k: v for k, v in self.contexts.items() if v[0] is not context}
        context.close()
        if native is False:
            pytest.fail("this test installed Playwright's clock: mark it own_context")

    def close(self):
        for context, _ in self.contexts.values():
            context.close()
        self.contexts.clear()


@pytest.fixture(scope="session")
def warm_contexts(chromium_browser):
    contexts = WarmContexts(chromium_browser)
    yield contexts
    contexts.close()


def shop_origins(server) -> list:
    return [SHOP, *TRACKER_HOSTS, server.url]


@pytest.fixture
def shop(request, browser_name, chromium_browser, warm_contexts, live_server):
    """The shop in a new page of a warm browser context (or, marked own_context, a new one).
    `browser_name` (pytest-playwright's) keeps the `[chromium]` of the tests' ids."""
    marker = request.node.get_closest_marker("browser_context")
    options = dict(marker.kwargs) if marker else {}
    own = request.node.get_closest_marker("own_context") is not None
    if own:
        context = new_context(chromium_browser, **options)
        page = context.new_page()
    else:
        page = warm_contexts.page(shop_origins(live_server), **options)
    yield Shop(page, live_server)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        screenshot(page, request.node.name + "-failed")
    if own:
        context.close()
    else:
        warm_contexts.give_back(page)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def strict_csp(shop) -> str:
    """Serve the shop's pages under a strict nonce CSP (no 'unsafe-inline' anywhere) and note
    every violation in `window.violations`; returns the nonce."""
    nonce = new_nonce()
    shop.csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; "
        f"img-src https://ads.example; frame-src https://video.example; "
        f"connect-src {shop.server.url}"
    )
    shop.page.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return nonce


def new_uuid() -> str:
    return str(uuid.uuid4())


def wait_for(page, expression, arg=None):
    """page.wait_for_function, but checked at once and then every 20 ms: its default polling,
    one check per animation frame, takes two or more frames (40 to 100 ms here) even for what
    already holds."""
    page.wait_for_function(expression, arg=arg, polling=20)


def wait_until(predicate, timeout=8.0, interval=0.05, page=None):
    """Poll `predicate()` until it returns something truthy; return that, or fail.

    With `page`, waiting goes through Playwright, so route handlers keep running meanwhile
    (the sync API only dispatches them inside its own calls).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        if page is not None and not page.is_closed():
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)


def queued(page) -> list:
    """The decisions the page's origin still holds in its queue: each stays there until its
    POST has had an answer (transport.js)."""
    return json.loads(page.evaluate("() => localStorage.getItem('accord_queue')") or "[]")


def settled(page) -> list | None:
    """queued(page), or None while the page is between two documents (a reload after a
    withdrawal): what the next document holds is read at the next poll."""
    try:
        return queued(page)
    except PlaywrightError as error:
        if "Execution context was destroyed" in str(error):
            return None
        raise


def wait_for_consents(live_server, site_key, count, page, timeout=8.0) -> list:
    """The site's records once there are `count` of them and the page's queue is empty: every
    decision it sent has had its answer, so no record of it is still on its way, and there
    must be exactly `count` (a record too many fails here, whenever it was sent)."""
    wait_until(
        lambda: len(stored_consents(live_server, site_key)) >= count and settled(page) == [],
        timeout,
        page=page,
    )
    records = stored_consents(live_server, site_key)
    assert len(records) == count, records
    return records


# The snippet leaves some work for after the banner's first frame: the sweep of refused
# cookies and storage keys and the send of decisions still queued run in a task queued from a
# frame callback (index.js). This marker's task is queued after that one, from a callback of
# the same frame or a later one: when it resolves, that work has run.
AFTER_FIRST_FRAME = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))"


def after_first_frame(page) -> None:
    """Return once the snippet of the page has done what it left for after the first frame."""
    page.evaluate(AFTER_FIRST_FRAME)


def wait_for_answers(page, decisions: list) -> None:
    """Wait until the page holds the server's receipt of each decision (as Accord.* returned
    them). The receipt is kept as the POST ends, in the same task as what the snippet does once
    it is over: a reload after a withdrawal has been started by then, or never will be."""
    page.wait_for_function(
        """ids => { const got = JSON.parse(localStorage.getItem('accord_receipts') || '{}');
                    return ids.every((id) => id in got); }""",
        arg=[d["consent_id"] for d in decisions],
    )


def a_later_page_sends_nothing(shop, live_server, site_key, count=1) -> None:
    """A later page sends what is still queued once past its first frame: with nothing
    queued, the site still has `count` records (whatever it sent is waited for until
    answered, then counted)."""
    page = shop.open(site_key)
    after_first_frame(page)
    wait_for_consents(live_server, site_key, count, page=page)


# Counts the page's fetches (window.fetches) and those that fail (window.failedFetches), from
# now on: a fetch is counted as it is called, a failure before the caller learns of it (this
# handler was attached first).
COUNT_FETCHES = """() => {
  const send = window.fetch;
  window.fetches = window.failedFetches = 0;
  window.fetch = (...args) => {
    window.fetches++;
    const sent = send(...args);
    sent.catch(() => window.failedFetches++);
    return sent;
  };
}"""


def count_fetches(page) -> None:
    page.evaluate(COUNT_FETCHES)


def wait_for_failed_fetches(page, count: int) -> None:
    """Wait until `count` fetches failed: a POST that did is no longer under way, and the
    snippet has queued its retry."""
    page.wait_for_function("count => window.failedFetches >= count", arg=count)


# Counts the reloads of the shop's pages (in sessionStorage, which a reload keeps) as each
# starts: the Navigation API's `navigate` event fires as location.reload() is called.
RELOAD_COUNTER = """
navigation.addEventListener('navigate', (e) => {
  if (e.navigationType == 'reload') {
    sessionStorage.reloads = Number(sessionStorage.reloads || 0) + 1;
  }
});
"""


def count_reloads(shop) -> None:
    """From the next page the shop opens, count the reloads the page starts (`reloads`)."""
    shop.page.add_init_script(RELOAD_COUNTER)


def reloads(page) -> int:
    return page.evaluate("() => Number(sessionStorage.reloads || 0)")


def decision_cookie(shop) -> dict | None:
    raw = shop.cookies().get("accord_consent")
    return json.loads(unquote(raw)) if raw else None


# Blocked elements of every kind, in the order an integrator would write them.
TRACKERS_HTML = """
<script type="text/plain" data-category="analytics" src="https://tracker.example/analytics.js"></script>
<script type="text/plain" data-category="analytics">
  window.ran = (window.ran || []).concat('inline-analytics');
</script>
<script type="text/plain" data-category="marketing" src="https://ads.example/marketing.js"></script>
<img data-category="marketing" data-src="https://ads.example/pixel.gif" alt="" id="pixel">
<iframe data-category="marketing" data-src="https://video.example/embed/1" title="Video"></iframe>
<p><a href="#" data-accord-open>Cookie settings</a></p>
"""
