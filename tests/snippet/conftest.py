"""Fixtures for the snippet's browser tests: sites on the live server and a customer page.

The customer page lives at https://www.shop.example (answered by Playwright's routing, so no
DNS and no network) and loads the snippet from the live Accord server, cross-origin, as on
a real site. Tracker hosts (tracker.example, ads.example, video.example) are answered by
routing too, and every request to them is recorded in `shop.requests`.
"""

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from sqlalchemy import select

SHOP = "https://www.shop.example"
TRACKER_HOSTS = ("https://tracker.example", "https://ads.example", "https://video.example")

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
        self.page.route(SHOP + "/**", self._serve_page)
        for host in TRACKER_HOSTS:
            self.page.route(host + "/**", self._serve_tracker)

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
            self.page.wait_for_function("() => !!window.Accord")
        return self.page

    def tracker_requests(self):
        return [u for u in self.requests if u.startswith(TRACKER_HOSTS)]

    def cookies(self) -> dict:
        return {c["name"]: c["value"] for c in self.page.context.cookies(SHOP)}


@pytest.fixture
def shop(page, live_server):
    return Shop(page, live_server)


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


def wait_for_consents(live_server, site_key, count, timeout=8.0, page=None) -> list:
    """The site's records once there are `count` of them (and still `count` a moment later)."""
    wait_until(lambda: len(stored_consents(live_server, site_key)) >= count, timeout, page=page)
    time.sleep(0.2)
    records = stored_consents(live_server, site_key)
    assert len(records) == count, records
    return records


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
