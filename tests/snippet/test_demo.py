"""Issue 3, point 16: /demo shows every tracker kind blocked, then running, under a strict CSP."""

import pytest
from sqlalchemy import select

from tests.fixtures.browser import run_axe, screenshot

pytestmark = pytest.mark.browser

KINDS = ("cookie", "storage", "beacon", "fingerprinting", "iframe")


@pytest.fixture
def demo_site(live_server):
    """The demo site on the live server (created once), allowed on the server's own origin."""
    from cmp_server.extensions import db
    from cmp_server.models import Site
    from cmp_server.services import sites
    from cmp_server.services.demo import DEMO_SITE_NAME, demo_site_config

    with live_server.app_context():
        site = db.session.scalar(select(Site).where(Site.name == DEMO_SITE_NAME))
        if site is None:
            site = sites.import_site(demo_site_config([live_server.url]))
            sites.publish_revision(site)
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
    page.wait_for_function("() => document.querySelector('[data-demo-status=cookie]').dataset.ran")
    assert {kind: status(page, kind) for kind in KINDS} == dict.fromkeys(KINDS, "false")
    assert page.locator('[data-accord="placeholder"]').is_visible()
    assert run_axe(page) == []
    screenshot(page, "demo-before-consent")

    page.click('[data-accord-action="accept_all"]')
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-demo-status]')]"
        ".every(el => !el.dataset.ran || el.dataset.ran == 'true')"
    )
    assert {kind: status(page, kind) for kind in KINDS} == dict.fromkeys(KINDS, "true")
    assert "analytics_storage: granted" in page.inner_text('[data-demo-status="consent-mode"]')
    screenshot(page, "demo-after-consent")

    page.click("[data-accord-open]")
    page.get_by_role("button", name="Withdraw consent").click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo-status=cookie]').textContent.includes('deleted')"
    )
    assert page.evaluate("() => violations") == []


def test_demo_page_in_french(page, live_server, demo_site):
    page.goto(live_server.url + "/demo?lang=fr")
    assert page.locator('[data-accord="banner"] h2').inner_text() == (
        "Nous respectons votre vie privée"
    )
