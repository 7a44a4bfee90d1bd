"""`accord site snippet KEY [--base-url URL]` on a real server: the HTML it prints is the
recommended integration (issue #17), and it works as printed on a page without a CSP. What it
prints does not depend on the database: SQLite only."""

import html
import json

import pytest

from cmp_server.services.demo import demo_site_config

SHOP = "https://www.shop.example"
BANNER = '[data-accord="banner"]'

pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def site_key(live_server):
    path = live_server.workdir / "install-site.json"
    path.write_text(json.dumps(demo_site_config([SHOP])))
    out = live_server.accord("site", "import", path, "--publish", "--json").stdout
    return json.loads(out)["site_key"]


def test_prints_one_inline_script_that_loads_the_site_snippet(live_server, site_key):
    out = live_server.accord("site", "snippet", site_key, "--base-url", live_server.url).stdout
    assert out.count("<script") == 1 and out.count("</script>") == 1
    assert '<script nonce="NONCE">' in out
    assert f'"{live_server.url}/s/{site_key}"' in out
    # What it loads exists: the full snippet and the core one.
    assert live_server.get(f"/s/{site_key}.js").status_code == 200
    assert live_server.get(f"/s/{site_key}.core.js").status_code == 200


def test_unknown_site_and_missing_base_url_are_clear_errors(live_server, site_key):
    unknown = live_server.accord(
        "site", "snippet", "nosuchsite0", "--base-url", "https://x.example", check=False
    )
    assert unknown.returncode == 1
    assert "nosuchsite0" in unknown.stderr and "Traceback" not in unknown.stderr
    no_base = live_server.accord("site", "snippet", site_key, check=False)
    assert no_base.returncode == 1
    assert "--base-url" in no_base.stderr and "Traceback" not in no_base.stderr
    bad = live_server.accord(
        "site", "snippet", site_key, "--base-url", "consent.example", check=False
    )
    assert bad.returncode == 1 and "--base-url" in bad.stderr


def test_the_printed_html_works_as_printed_on_a_page_without_csp(live_server, site_key, page):
    html = live_server.accord("site", "snippet", site_key, "--base-url", live_server.url).stdout
    page.context.grant_permissions(["local-network-access"])
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
        f"{html}</head><body><h1>Shop</h1></body></html>"
    )
    page.route(SHOP + "/**", lambda route: route.fulfill(body=body, content_type="text/html"))
    page.goto(SHOP + "/")
    page.locator(BANNER).wait_for()
    page.click(f'{BANNER} [data-accord-action="reject_all"]')
    page.wait_for_function("() => Accord.getConsent()?.action == 'reject_all'")
    # The next page: the stub loads the core snippet, no banner, the decision holds.
    page.goto(SHOP + "/")
    page.wait_for_function("() => Accord.getConsent()?.action == 'reject_all'")
    assert page.locator(BANNER).count() == 0


def test_the_console_install_page_shows_the_same_html(live_server, site_key):
    password = live_server.create_user("installer@example.com", "marketer", [site_key])
    session = live_server.login("installer@example.com", password)
    page = session.get(f"{live_server.url}/admin/sites/{site_key}/install", timeout=30)
    assert page.status_code == 200
    printed = live_server.accord("site", "snippet", site_key, "--base-url", live_server.url).stdout
    # The page's base is the request's (no ACCORD_PUBLIC_URL here), which is the same.
    assert html.escape(printed, quote=False).strip() in page.text.replace("&#34;", '"')
    assert (
        f'href="/admin/sites/{site_key}/install"'
        in session.get(f"{live_server.url}/admin/sites/{site_key}", timeout=30).text
    )
    # Another site's page is as unknown as a missing one.
    other = live_server.create_site("Other")
    assert (
        session.get(f"{live_server.url}/admin/sites/{other}/install", timeout=30).status_code == 404
    )
