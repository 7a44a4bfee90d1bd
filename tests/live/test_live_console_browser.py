"""The console's in-page behaviours in Chromium, on a real server: the Look page's live
contrast check and its sample (the real snippet's banner, redrawn with unsaved colours), the
token's copy button, and the console at 390 px without sideways scrolling. axe-core finds no
WCAG 2.1 A/AA violation on the pages changed for this. In-page behaviour does not depend on
the database: SQLite only."""

import json

import pytest
from playwright.sync_api import expect

from cmp_server.services.demo import demo_site_config
from tests.fixtures.browser import run_axe, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def staff(live_server):
    """A published site and an admin's email and password."""
    password = live_server.create_user("bea@example.com", "admin")
    path = live_server.workdir / "browser-site.json"
    path.write_text(json.dumps({**demo_site_config(["https://shop.example"]), "name": "Shop"}))
    out = live_server.accord("site", "import", path, "--publish", "--json").stdout
    live_server.accord("seed", "--site", json.loads(out)["site_key"], "--count", "40")
    return {"site": json.loads(out)["site_key"], "email": "bea@example.com", "password": password}


def sign_in(page, live_server, staff):
    page.goto(live_server.url + "/admin/login")
    page.fill("#email", staff["email"])
    page.fill("#password", staff["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sites")


def sample_banner(page):
    """The banner drawn by the snippet inside the Look page's sample frame."""
    frame = page.frame_locator("iframe[data-sample]")
    return frame.locator("[data-accord=banner]")


def test_the_look_page_checks_contrast_live_and_shows_the_real_banner(page, live_server, staff):
    sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/admin/sites/{staff['site']}/look")
    banner = sample_banner(page)
    banner.wait_for()
    # The sample is the snippet's own banner: its buttons, in its order.
    actions = banner.locator("[data-accord-action]").evaluate_all(
        "els => els.map(e => e.dataset.accordAction)"
    )
    assert [a for a in actions if a != "close"][:3] == ["accept_all", "reject_all", "customize"]
    assert page.locator(".contrast-checks li.bad").count() == 0
    assert run_axe(page) == []

    # Unreadable text: the check fails in the page, before anything is saved.
    page.fill("#text", "#cccccc")
    failing = page.locator(".contrast-checks li.bad")
    failing.first.wait_for()
    assert "Banner text on the banner background: 1.61:1" in failing.first.inner_text()
    page.fill("#text", "#1f2933")
    page.wait_for_function("() => !document.querySelector('.contrast-checks li.bad')")

    # A colour picked with the picker is drawn by the real banner in the sample.
    page.locator("input[type=color][data-color-for=accept_background]").fill("#0b6e4f")
    assert page.input_value("#accept_background") == "#0b6e4f"
    accept = sample_banner(page).locator("[data-accord-action=accept_all]")
    page.wait_for_function(
        """() => {
          const f = document.querySelector('iframe[data-sample]');
          const b = f && f.contentDocument &&
            f.contentDocument.querySelector('[data-accord-action=accept_all]');
          return b && getComputedStyle(b).backgroundColor === 'rgb(11, 110, 79)';
        }"""
    )
    assert accept.is_visible()
    # A pale "Refuse all" beside it: unequal weight shows at once, and the server refuses
    # the same colours on save.
    page.fill("#reject_background", "#e8eefc")
    page.fill("#reject_text", "#1d4ed8")
    page.get_by_text("give both buttons the same weight").wait_for()
    page.click("button[type=submit]:has-text('Save to draft')")
    expect(page.locator("#reject_background-err")).to_be_visible()  # after the reload
    screenshot(page, "console-look")


def test_the_copy_button_puts_the_new_token_in_the_clipboard(
    page, browser_context, live_server, staff
):
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, live_server, staff)
    page.goto(live_server.url + "/admin/tokens")
    page.fill("#name", "deploy")
    page.click("button[type=submit]:has-text('Create token')")
    token = page.locator("[data-test=new-token]").inner_text()
    assert page.input_value("#name") == ""  # the form is cleared for the next token
    page.click("[data-test=copy-token]")
    page.get_by_text("The token is in your clipboard.").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    assert run_axe(page) == []


def test_the_preview_bar_publish_button_looks_live(page, live_server, staff):
    sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/admin/sites/{staff['site']}/texts?lang=en")
    page.fill("#title", "Cookies, briefly")
    page.click("button[type=submit]:has-text('Save en texts to draft')")
    expect(page.get_by_text("Texts (en) saved to the draft.")).to_be_visible()
    page.goto(f"{live_server.url}/admin/sites/{staff['site']}/preview")
    publish = page.get_by_role("link", name="Review and publish…")
    assert publish.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert run_axe(page, ".preview-bar") == []


@pytest.mark.browser_context(viewport=PHONE)
def test_the_console_fits_a_phone(page, live_server, staff):
    sign_in(page, live_server, staff)
    site = staff["site"]
    for path in (
        f"/admin/sites/{site}",
        f"/admin/sites/{site}/dashboard",
        f"/admin/sites/{site}/look",
        f"/admin/sites/{site}/texts",
        f"/admin/sites/{site}/publish",
        f"/admin/sites/{site}/proofs",
        "/admin/audit",
        "/admin/tokens",
        "/admin/users",
    ):
        page.goto(live_server.url + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        # Every site tab can be seen and reached without scrolling sideways.
        for box in page.locator("nav.tabs a").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().right)"
        ):
            assert box <= PHONE["width"], path
        assert run_axe(page) == [], path
    screenshot(page, "console-phone-users")
