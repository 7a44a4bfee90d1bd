"""Issue 3, point 16: /demo shows every tracker kind blocked, then running, under a strict CSP."""

import pytest
from sqlalchemy import select

from tests.fixtures.browser import run_axe, screenshot
from tests.snippet.conftest import wait_for
from tests.snippet.test_banner_design import shoot

pytestmark = pytest.mark.browser

KINDS = ("cookie", "storage", "beacon", "fingerprinting", "iframe")


@pytest.fixture
def demo_site(live_server):
    """The demo site on the live server (created once), allowed on the server's own origin.
    The server is shared with other test files, whose sites may carry the demo's name (/demo
    serves the first): that one is given the server's origin too, else the page's consents
    are refused (403)."""
    from cmp_server.extensions import db
    from cmp_server.models import Site
    from cmp_server.services import revisions, sites
    from cmp_server.services.demo import DEMO_SITE_NAME, demo_site_config

    with live_server.app_context():
        site = db.session.scalar(select(Site).where(Site.name == DEMO_SITE_NAME))
        if site is None or live_server.url not in site.origins:
            config = sites.export_site(site) if site else demo_site_config([])
            config["origins"].append(live_server.url)
            site = sites.import_site(config, site)
            revisions.publish_revision(site)
            db.session.commit()
        key = site.site_key
        db.session.remove()
    return key


def status(page, kind):
    return page.get_attribute(f'[data-demo-status="{kind}"]', "data-ran")


def test_demo_page_blocks_then_runs_each_tracker_kind(page, live_server, demo_site):
    page.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = page.goto(live_server.url + "/demo")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page.locator('[data-accord="banner"]').wait_for()
    wait_for(page, "() => document.querySelector('[data-demo-status=cookie]').dataset.ran")
    assert {kind: status(page, kind) for kind in KINDS} == dict.fromkeys(KINDS, "false")
    assert page.locator('[data-accord="placeholder"]').is_visible()
    assert run_axe(page) == []
    screenshot(page, "demo-before-consent")

    page.click('[data-accord-action="accept_all"]')
    wait_for(
        page,
        "() => [...document.querySelectorAll('[data-demo-status]')]"
        ".every(el => !el.dataset.ran || el.dataset.ran == 'true')",
    )
    assert {kind: status(page, kind) for kind in KINDS} == dict.fromkeys(KINDS, "true")
    assert "analytics_storage: granted" in page.inner_text('[data-demo-status="consent-mode"]')
    screenshot(page, "demo-after-consent")

    page.click("[data-accord-open]")
    # The trackers' code ran in this page: withdrawing reloads it (reload_on_withdraw).
    with page.expect_navigation():
        page.get_by_role("button", name="Withdraw consent").click()
    wait_for(page, "() => document.querySelector('[data-demo-status=cookie]').dataset.ran")
    assert {kind: status(page, kind) for kind in KINDS} == dict.fromkeys(KINDS, "false")
    assert "demo_analytics" not in {c["name"] for c in page.context.cookies()}
    assert page.evaluate("() => violations") == []


def test_demo_page_in_french(page, live_server, demo_site):
    page.goto(live_server.url + "/demo?lang=fr")
    assert page.locator('[data-accord="banner"] h2').inner_text() == (
        "Nous respectons votre vie privée"
    )


@pytest.mark.browser_context(viewport={"width": 390, "height": 844})
def test_demo_page_fits_a_phone(page, live_server, demo_site):
    """At 390 px the tracker table fits the screen: nothing wider than the page, every cell's
    text readable without scrolling sideways (issue 14, point 5)."""
    page.goto(live_server.url + "/demo")
    page.locator('[data-accord="banner"]').wait_for()
    page.locator('[data-accord-action="accept_all"]').click()
    wait_for(page, "() => document.querySelector('[data-demo-status=cookie]').dataset.ran")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    overflowing = page.evaluate(
        "() => [...document.querySelectorAll('main td, main th')]"
        ".filter(c => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > 390)"
        ".map(c => c.textContent)"
    )
    assert overflowing == []
    shoot(page, "demo-phone", full_page=True)


def test_demo_page_embeds_accord_the_recommended_way(page, live_server, demo_site):
    """/demo shows the integration the README, the console and `accord site snippet` give
    (issue 17): the inline stub, the page's CSP nonce filled in, first in <head>; nothing of
    Accord's holds the first paint, and the decision's API answers once the snippet is here.
    Nothing fails on the way (a 404, a CSP violation, a script error: the console says it)."""
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(live_server.url + "/demo")
    nonce = response.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    head = response.text().split("</head>")[0]  # as served
    first_script = head[head.index("<script") :]
    assert first_script.startswith(f'<script nonce="{nonce}">!function(')
    assert f"/s/{demo_site}.js" not in head  # no synchronous tag, no URL of it
    page.locator('[data-accord="banner"]').wait_for()
    accord_files = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => new URL(e.name).pathname.startsWith('/s/'))"
        ".map(e => [new URL(e.name).pathname, e.renderBlockingStatus])"
    )
    assert accord_files and all(status == "non-blocking" for _, status in accord_files)
    assert [f"/s/{demo_site}.js", "non-blocking"] in accord_files
    page.click('[data-accord-action="reject_all"]')
    wait_for(
        page,
        "() => document.querySelector('[data-demo-status=decision]').textContent"
        ".startsWith('reject_all')",
    )
    assert errors == []
