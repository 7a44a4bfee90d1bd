"""`accord scan` on the fixture shop, a clean site and the demo page, through the CLI.

On SQLite only: what a scan finds does not depend on the database, and the report it keeps is
stored and read back on both backends by test_scan_jobs.py (the same `store_report`).

Every scan of the module is an `accord` process that needs nothing of the others and spends
most of its time waiting on its browser and the servers: `runs` starts them all side by side
when the first test asks, and each test reads its own.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.scanner.conftest import accord, import_site
from tests.scanner.fixture_site import CleanApp, Server, site_config

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

# (violation, kind, name, host, phases, declared as "category: tracker", known platform);
# requests to Accord's own server (the snippet, its texts, the consent POST) are checked apart:
# which files the snippet loads is the snippet's business.
B, R, A = "before_choice", "after_refuse", "after_accept"
EXPECTED = [
    (True, "cookie", "after_choice_leak", "127.0.0.1", [R, A], None, None),
    (True, "cookie", "leak_early", "127.0.0.1", [B, R, A], None, None),
    (True, "storage", "leak_store", "SHOP", [B, R, A], None, None),
    (True, "storage", "page2_leak", "SHOP", [R, A], None, None),
    (True, "storage", "page3_db", "SHOP", [R, A], None, None),
    (True, "request", "THIRD/pixel.gif", "THIRD_HOST", [B, R, A], "marketing: Ad pixel", None),
    (True, "request", "THIRD/vendor.js", "THIRD_HOST", [B, R, A], "marketing: Ad pixel", None),
    (True, "fingerprinting", "canvas", "SHOP", [B, R, A], None, None),
    (False, "cookie", "_hjSessionUser_123", "127.0.0.1", [A], None, "Hotjar"),
    (False, "cookie", "accord_consent", "127.0.0.1", [R, A], None, "Accord"),
    (False, "cookie", "shop_session", "127.0.0.1", [B, R, A], "necessary: Session", None),
    (False, "cookie", "shop_stats", "127.0.0.1", [A], "analytics: Shop stats", None),
    (False, "storage", "accord_device", "SHOP", [R, A], None, "Accord"),
    (False, "storage", "accord_queue", "SHOP", [R, A], None, "Accord"),
    (False, "storage", "accord_receipts", "SHOP", [R, A], None, "Accord"),
    (False, "storage", "accord_secret", "SHOP", [R, A], None, "Accord"),
    (False, "request", "THIRD/ad.gif", "THIRD_HOST", [A], "marketing: Ad pixel", None),
]


def scan(live, site_key, url, *args, **env):
    """`accord scan`, with extra settings (`env`) for this run only."""
    return accord(live, "scan", "--site", site_key, url, *args, check=False, **env)


def scan_clean_site(live, folder):
    """A site that blocks what it declares: served, imported and published, then scanned."""
    app = CleanApp(live.url, "")
    server = Server(app)
    try:
        app.site_key = import_site(live, site_config(server.url, "localhost"), folder)
        return scan(live, app.site_key, server.url + "/", "--pages", "0")
    finally:
        server.stop()


def scan_demo_page(live):
    out = live.accord("demo", "--origin", live.url).stdout
    site_key = out.split("key ")[1].split(".")[0]
    return scan(live, site_key, live.url + "/demo", "--pages", "1", "--json")


@pytest.fixture(scope="module")
def runs(live_server, shop, tmp_path_factory):
    """Each scan of the module, by name, as a future of its finished `accord` process."""
    live = live_server
    jobs = {
        "shop": (scan, live, shop.site_key, shop.url, "--pages", "3", "--json"),
        "clean": (scan_clean_site, live, tmp_path_factory.mktemp("clean")),
        "demo": (scan_demo_page, live),
        # Four that cannot run.
        "unknown": (scan, live, "NoSuchSite123", shop.url),
        "not_http": (scan, live, shop.site_key, "file:///etc/passwd"),
        # A page without the banner: the scan waits for it for ACCORD_SCAN_BANNER_TIMEOUT_MS
        # (10 s by default; the message names the wait, so the setting is seen to apply).
        "no_banner": (scan, live, shop.site_key, shop.third.url + "/vendor.js", "--json"),
        "no_browser": (scan, live, shop.site_key, shop.url),
    }
    env = {
        "no_banner": {"ACCORD_SCAN_BANNER_TIMEOUT_MS": "1000"},
        "no_browser": {"ACCORD_CHROMIUM": "/nonexistent/chromium"},
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        yield {name: pool.submit(*job, **env.get(name, {})) for name, job in jobs.items()}


ACCORD_HOST = "ACCORD_HOST"


def rows(report: dict, replace: dict) -> list[tuple]:
    def plain(text: str) -> str:
        for value, name in replace.items():
            text = text.replace(value, name)
        return text

    return [
        (
            f["violation"],
            f["kind"],
            plain(f["name"]),
            plain(f["host"]),
            f["phases"],
            f"{f['declared']['category']}: {f['declared']['tracker']}" if f["declared"] else None,
            f["known"]["platform"] if f["known"] else None,
        )
        for f in report["findings"]
        if not (f["kind"] == "request" and plain(f["host"]) == ACCORD_HOST)
    ]


def test_the_fixture_shop_report_is_exactly_the_known_set(live_server, shop, runs):
    result = runs["shop"].result()
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    shop_host = shop.url.split("/")[2]
    replace = {
        shop.third.url: "THIRD",
        shop.third.url.split("/")[2]: "THIRD_HOST",
        live_server.url: "ACCORD",
        live_server.url.split("/")[2]: "ACCORD_HOST",
        shop.site_key: "KEY",
        shop_host: "SHOP",
    }
    assert rows(report, replace) == EXPECTED
    accord = [f for f in report["findings"] if f["host"] == live_server.url.split("/")[2]]
    assert {f["known"]["source"] for f in accord} == {"accord"}
    assert not any(f["violation"] for f in accord)
    names = {f["name"] for f in accord}
    assert f"{live_server.url}/s/{shop.site_key}.js" in names
    assert f"{live_server.url}/api/v1/sites/{shop.site_key}/consents" in names
    assert report["verdict"] == "fail"
    assert report["site_key"] == shop.site_key and report["revision"] == 1
    assert report["pages"] == [shop.url, shop.url + "page2", shop.url + "page3"]
    by_name = {f["name"]: f for f in report["findings"]}
    assert (
        by_name[f"{shop.third.url}/vendor.js"]["initiator"] == f"<link rel=preload> in {shop.url}"
    )
    assert by_name[f"{shop.third.url}/pixel.gif"]["initiator"] == f"HTML of {shop.url}"
    assert by_name["shop_session"]["http_only"] is True
    assert by_name["canvas"]["script"] == shop.url + "fp.js"
    hotjar = by_name["_hjSessionUser_123"]["known"]
    assert hotjar["source"] == "open-cookie-database" and hotjar["pattern"] == "_hjSessionUser_*"


def test_a_site_that_blocks_what_it_declares_passes(runs):
    result = runs["clean"].result()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS:" in result.stdout
    assert "shop_stats" in result.stdout  # the table lists what Accept all set
    assert "after_accept" in result.stderr  # the progress bar names the phase


def test_the_demo_page_passes(runs):
    result = runs["demo"].result()
    report = json.loads(result.stdout)
    assert result.returncode == 0, [f for f in report["findings"] if f["violation"]]
    kinds = {(f["kind"], f["name"]) for f in report["findings"] if A in f["phases"]}
    assert {("cookie", "demo_analytics"), ("storage", "demo_visits")} <= kinds
    assert any(k == "fingerprinting" for k, _ in kinds)  # the demo's fingerprint script


def test_a_scan_that_cannot_run_exits_2(runs):
    """Four scans that cannot run: each stops with exit status 2 and says why."""
    unknown, not_http, no_banner, no_browser = (
        runs[name].result() for name in ("unknown", "not_http", "no_banner", "no_browser")
    )
    assert unknown.returncode == 2 and "could not run" in unknown.stderr
    assert not_http.returncode == 2
    assert no_banner.returncode == 2 and "no Accord banner" in no_banner.stderr
    assert "within 1 s" in no_banner.stderr
    assert no_banner.stdout == ""
    assert no_browser.returncode == 2 and "/nonexistent/chromium is missing" in no_browser.stderr
