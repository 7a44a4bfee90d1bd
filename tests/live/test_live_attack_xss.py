"""Stored XSS from staff-controlled text, on a real server: a marketer writes markup into
every text a visitor or another staff member reads (site name, category titles and
descriptions, tracker name, provider, purpose and duration in two languages, banner texts
and notices). The banner in Chromium shows it as text (no element, no attribute, no script),
every console page escapes it, the audit CSV neutralises spreadsheet formulas, and a
`javascript:` privacy policy URL is refused. Escaping does not depend on the database: SQLite
only.
"""

import csv
import io

import pytest

from tests.live.conftest import csrf_token
from tests.live.over_http import SetUp

MARK = "xss-mark"
# breaks out of an attribute, of a text node and of a template; starts like a formula
PAYLOAD = f"=1+{MARK}\"'><img src=x onerror=window.__xss=1><svg onload=window.__xss=2>{{{{7*7}}}}"
ESCAPED = "&lt;img src=x onerror=window.__xss=1&gt;"
ORIGIN = "https://shop.example"
ACCORD = "https://consent.example"
TRACKER_ROLES = ("name", "provider")

pytestmark = pytest.mark.sqlite_only


def hostile_config() -> dict:
    per_language = {lang: f"{PAYLOAD} {lang}" for lang in ("en", "fr")}
    keys = ("title", "description", "accept_all", "reject_all", "customize", "save")
    texts = dict.fromkeys(keys, PAYLOAD)
    texts.update(gpc_notice=PAYLOAD, notice_ok=PAYLOAD, do_not_sell=PAYLOAD, purpose=PAYLOAD)
    return {
        "name": PAYLOAD,
        "origins": [ORIGIN],
        "languages": ["en", "fr"],
        "default_language": "en",
        "privacy_policy_url": ORIGIN + "/privacy?q=" + "%22%3E%3Cimg%20src%3Dx%3E",
        "regimes": {"default": "opt_in", "US": "opt_out"},
        "texts": {"en": texts, "fr": {"title": PAYLOAD}},
        "categories": [
            {
                "key": "necessary",
                "required": True,
                "labels": {
                    lang: {"title": PAYLOAD, "description": PAYLOAD} for lang in ("en", "fr")
                },
                "trackers": [],
            },
            {
                "key": "analytics",
                "required": False,
                "labels": {
                    lang: {"title": PAYLOAD, "description": PAYLOAD} for lang in ("en", "fr")
                },
                "trackers": [
                    {
                        "name": PAYLOAD,
                        "provider": PAYLOAD,
                        "kind": "cookie",
                        "purpose": per_language,
                        "duration": per_language,
                        "cookies": ["_ga"],
                        "domains": [],
                    }
                ],
            },
        ],
    }


@pytest.fixture(scope="module")
def hostile(live_server):
    """The hostile site, imported and published over HTTP by an admin (`SetUp`)."""
    admin = SetUp(live_server, "xss-admin@example.com")
    site_key = admin.import_site(hostile_config(), publish=True)
    # a change through the API too, so the audit log shows the payload as a change in words
    config = admin.api("GET", f"/sites/{site_key}/config").json()
    config["categories"][1]["trackers"][0]["provider"] = PAYLOAD + " changed"
    assert live_server.api("PUT", f"/sites/{site_key}/config", admin.token, json=config).ok
    browser = live_server.login("xss-admin@example.com", admin.password)
    return {"site": site_key, "token": admin.token, "browser": browser}


CONSOLE_PAGES = [
    "/admin/sites",
    "/admin/sites/{site}",
    "/admin/sites/{site}/dashboard",
    "/admin/sites/{site}/texts",
    "/admin/sites/{site}/texts?lang=fr",
    "/admin/sites/{site}/look",
    "/admin/sites/{site}/settings",
    "/admin/sites/{site}/categories/analytics",
    "/admin/sites/{site}/categories/analytics/trackers/0",
    "/admin/sites/{site}/publish",
    "/admin/sites/{site}/install",
    "/admin/sites/{site}/proofs",
    "/admin/sites/{site}/scans",
    "/admin/sites/{site}/json",
    "/admin/audit",
    "/admin/audit?site={site}",
]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_show_staff_text_escaped(live_server, hostile, path):
    answer = hostile["browser"].get(live_server.url + path.format(**hostile), timeout=30)
    assert answer.status_code == 200, (path, answer.status_code)
    assert "<img src=x" not in answer.text and "<svg onload" not in answer.text, path
    assert "onerror=window.__xss=1>" not in answer.text.replace(ESCAPED, ""), path


def test_the_audit_log_shows_the_change_in_words_escaped(live_server, hostile):
    page = hostile["browser"].get(f"{live_server.url}/admin/audit?site={hostile['site']}")
    assert ESCAPED in page.text  # the change is shown, as text


def test_the_audit_csv_neutralises_formulas(live_server, hostile):
    browser = hostile["browser"]
    answer = browser.get(f"{live_server.url}/admin/audit.csv", timeout=30)
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(MARK in cell for cell in cells)
    risky = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt://shop.example/%0aalert(1)", "data:text/html,x"]
)
def test_a_script_privacy_policy_url_is_refused(live_server, hostile, url):
    token, site = hostile["token"], hostile["site"]
    config = live_server.api("GET", f"/sites/{site}/config", token).json()
    answer = live_server.api(
        "PUT", f"/sites/{site}/config", token, json={**config, "privacy_policy_url": url}
    )
    assert answer.status_code == 400
    assert "privacy_policy_url" in answer.json()["error"]["fields"]
    browser = hostile["browser"]
    form_url = f"{live_server.url}/admin/sites/{site}/settings"
    form = browser.get(form_url, timeout=30).text
    sent = browser.post(
        form_url,
        data={
            "csrf_token": csrf_token(form),
            "name": "x",
            "origins": ORIGIN,
            "languages": "en, fr",
            "default_language": "en",
            "privacy_policy_url": url,
            "consent_lifetime_days": "182",
            "regimes": "default=opt_in",
            "time_zone": "UTC",
        },
        timeout=30,
    )
    assert sent.status_code == 400
    after = live_server.api("GET", f"/sites/{site}/config", token).json()
    assert after["privacy_policy_url"] == config["privacy_policy_url"]


HOST_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<script src="{server}/s/{site}.js"></script></head><body><p>shop</p></body></html>"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_banner_shows_staff_text_as_text(live_server, hostile, browser_context, lang):
    csp = (
        f"default-src 'none'; script-src {ACCORD}; connect-src {ACCORD}; "
        f"style-src {ACCORD}; img-src 'none'"
    )
    html = HOST_PAGE.format(lang=lang, server=ACCORD, site=hostile["site"])
    messages = []
    browser_context.route(
        ORIGIN + "/**",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": csp},
            body=html,
        ),
    )

    def accord(route):  # the live server under a public name (Chromium keeps pages off loopback)
        answer = route.fetch(url=route.request.url.replace(ACCORD, live_server.url, 1))
        route.fulfill(response=answer)

    browser_context.route(ACCORD + "/**", accord)
    page = browser_context.new_page()
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    page.goto(ORIGIN + "/")
    try:
        page.wait_for_selector('[data-accord="banner"]', state="visible")
    except Exception:
        raise AssertionError(messages) from None
    page.click('[data-accord="banner"] [data-accord-action="customize"]')
    page.wait_for_selector('[data-accord="preferences"]', state="visible")
    injected = page.evaluate(
        """() => ({
          elements: document.querySelectorAll('[data-accord] img, [data-accord] svg[onload],'
            + ' [data-accord] script, [onerror], [onload]').length,
          xss: window.__xss || null,
          text: document.body.textContent,
        })"""
    )
    assert injected["xss"] is None
    assert injected["elements"] == 0
    assert "<img src=x onerror=window.__xss=1>" in injected["text"]  # shown, as text
    assert f"{PAYLOAD} {lang}" in injected["text"]  # the tracker's purpose in the page's language
    assert messages == []  # no error; the banner needs nothing the strict CSP refuses
