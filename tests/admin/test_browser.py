"""The console in real Chromium: sign in and out, roles, edit → preview → publish, the
dashboard, an export download. Screenshots of the main pages go to test-artifacts/."""

import csv
import io
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.admin.conftest import PASSWORD
from tests.fixtures.browser import run_axe, screenshot

pytestmark = pytest.mark.browser
SEEDED = 400


@pytest.fixture(scope="module")
def console(live_server):
    """A published demo site with consents, and one account per role, on the live server."""
    from cmp_server.extensions import db
    from cmp_server.services import lookup, revisions, sites, staff
    from cmp_server.services.demo import demo_site_config
    from cmp_server.services.seeding import seed_consents

    tag = uuid.uuid4().hex[:6]
    with live_server.app_context():
        config = demo_site_config(["https://shop.example"])
        config["name"] = f"Example Shop {tag}"
        site = sites.import_site(config)
        revisions.publish_revision(site, published_by="test")
        emails = {}
        for role in ("admin", "marketer", "dpo"):
            emails[role] = f"{role}-{tag}@example.com"
            staff.create_user(emails[role], role, PASSWORD)
        db.session.commit()
        lookup.forget_site(site.site_key)
        seed_consents(site.site_key, SEEDED, days=30)
        key = site.site_key
        db.session.remove()
    return {"url": live_server.url, "site_key": key, "emails": emails}


def sign_in(page, console, role):
    page.goto(console["url"] + "/admin/login")
    page.fill("#email", console["emails"][role])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sites")


def test_login_and_logout(page, console):
    page.goto(console["url"] + "/admin/sites")
    page.wait_for_url(re.compile(r"/admin/login\?next="))
    screenshot(page, "admin-login")
    assert run_axe(page) == []
    page.fill("#email", console["emails"]["admin"])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sites")
    assert page.get_by_role("heading", name="Sites").is_visible()
    screenshot(page, "admin-sites")
    page.click("[data-test=logout]")
    page.wait_for_url("**/admin/login")
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto(console["url"] + "/admin/sites")
    page.wait_for_url(re.compile(r"/admin/login\?next="))


def test_a_marketer_is_refused_the_proofs(page, console):
    sign_in(page, console, "marketer")
    page.goto(f"{console['url']}/admin/sites/{console['site_key']}")
    assert page.locator("nav.tabs").get_by_text("Proofs").count() == 0
    answer = page.goto(f"{console['url']}/admin/sites/{console['site_key']}/proofs")
    assert answer.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    screenshot(page, "admin-forbidden")


def test_edit_preview_publish(page, console):
    base = f"{console['url']}/admin/sites/{console['site_key']}"
    sign_in(page, console, "marketer")
    page.goto(base)
    screenshot(page, "admin-site-overview")
    assert run_axe(page) == []
    page.goto(base + "/texts?lang=en")
    page.fill("#title", "Cookies on Example Shop")
    page.get_by_role("button", name="Save en texts to draft").click()
    expect(page.get_by_text("Texts (en) saved to the draft.")).to_be_visible()
    page.goto(base + "/look")
    screenshot(page, "admin-look")

    page.goto(base + "/preview")
    banner = page.locator('[data-accord="banner"]')
    banner.wait_for()
    assert "Cookies on Example Shop" in banner.inner_text()
    screenshot(page, "admin-preview")
    page.click('[data-accord-action="reject_all"]')
    banner.wait_for(state="hidden")
    # The preview keeps no decision, a refusal no more than a consent: it asks each time.
    page.goto(base + "/preview")
    banner.wait_for()

    page.goto(base + "/publish")
    assert page.get_by_text("texts.en.title").is_visible()
    screenshot(page, "admin-publish")
    assert run_axe(page) == []
    page.get_by_role("button", name="Publish revision 2").click()
    page.wait_for_url(base)
    assert page.get_by_text("Revision 2 is live.").is_visible()
    assert "revision 2" in page.locator(".facts").first.inner_text()


def test_the_dashboard_renders_with_data(page, console):
    sign_in(page, console, "admin")
    page.goto(f"{console['url']}/admin/sites/{console['site_key']}/dashboard")
    total = int(page.locator("[data-test=total]").inner_text().replace(",", ""))
    assert 0 < total <= SEEDED
    assert page.locator("svg.chart rect.a-accept_all").count() > 0
    assert page.get_by_role("heading", name="Consent rate by purpose").is_visible()
    screenshot(page, "admin-dashboard")
    assert run_axe(page) == []


def test_an_export_downloads_and_parses(page, console):
    sign_in(page, console, "dpo")
    page.goto(f"{console['url']}/admin/sites/{console['site_key']}/proofs")
    screenshot(page, "admin-proofs")
    with page.expect_download() as info:
        page.click("[data-test=export-csv]")
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) >= SEEDED
    # The DPO's CSV: readable columns, one per purpose, and no hashes (those are in NDJSON).
    assert {"consent_id", "action", "choice_analytics"} <= set(rows[0])
    assert "record_hash" not in rows[0]
    page.click("table.table tbody tr:first-child a")
    assert page.locator("[data-test=verified]").inner_text() == "Verified"
    screenshot(page, "admin-proof-record")
    page.goto(console["url"] + "/admin/audit")
    assert page.get_by_text("exported the proofs as CSV").first.is_visible()
    screenshot(page, "admin-audit")


def test_the_settings_set_the_time_zone_of_the_site_s_dates(page, console):
    base = f"{console['url']}/admin/sites/{console['site_key']}"
    sign_in(page, console, "admin")
    page.goto(base + "/settings")
    field = page.get_by_label("Time zone of the console's dates")
    assert field.input_value() == "UTC"
    assert field.get_attribute("list") == "time-zones"  # names suggested as one types
    field.fill("Europe/Atlantis")
    page.get_by_role("button", name="Save to draft").click()
    assert page.locator("#time_zone-err").inner_text().startswith("'Europe/Atlantis' is not")
    assert field.get_attribute("aria-invalid") == "true"
    assert run_axe(page) == []
    field.fill("Asia/Kolkata")
    page.get_by_role("button", name="Save to draft").click()
    page.wait_for_url(base)
    published = page.locator(".facts time").first
    assert published.inner_text().endswith(" IST")
    assert published.get_attribute("title").endswith(" UTC (Asia/Kolkata)")
    page.goto(base + "/settings")
    page.get_by_label("Time zone of the console's dates").fill("UTC")
    page.get_by_role("button", name="Save to draft").click()
    page.wait_for_url(base)
