"""Scanner tests run against the live tier's real server (gunicorn, SQLite and PostgreSQL),
the `accord` CLI as a subprocess, Debian's Chromium, and the fixture sites of fixture_site.py.

What a page sets and sends, and the SSRF guard, do not depend on the database: those tests are
marked `sqlite_only` (tests/live/conftest.py). Storing a scan and reading it back does:
test_scan_jobs.py (the worker stores the report, the API and the console read it) runs on
both backends, and so does the screenshots job of test_screenshots.py.
"""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cmp_server.scanner.browse import CHROMIUM_ARGS
from tests.live.conftest import BIN, live_server  # noqa: F401 - the live tier's server
from tests.scanner.fixture_site import Server, ShopApp, site_config, third_party_app

CHROMIUM = Path("/usr/bin/chromium")
# How long the network must be quiet after each step of a scan (ACCORD_SCAN_QUIET_MS, 500 by
# default). The fixture sites answer at once and delay nothing: every request a step sets off
# has started before the wait begins (the slowest hop is the blocker's setTimeout(0)), so a
# fifth of the default still leaves a wide margin, and test_quiet_network.py checks that a
# request that starts late or answers slowly is still waited for.
QUIET_MS = 100


@pytest.fixture(scope="module")
def live_server_env():
    """The scanner's settings for the live server, the CLI and the worker of each module."""
    return {"ACCORD_SCAN_QUIET_MS": QUIET_MS}


@pytest.fixture(autouse=True)
def _needs_chromium():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium package")


@pytest.fixture(scope="module")
def third_party():
    server = Server(third_party_app, hostname="localhost")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_thread():
    """`browser_thread(work)`: work(browser) with one Chromium shared by the module's tests
    (a launch costs about a second), in the one thread that owns it: Playwright's sync API is
    bound to the thread that started it."""
    if not CHROMIUM.exists():  # set up before the autouse check above: a module fixture
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-browser")
    playwright = pool.submit(lambda: sync_playwright().start()).result()
    browser = pool.submit(
        lambda: playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    ).result()
    yield lambda work: pool.submit(work, browser).result()
    pool.submit(lambda: (browser.close(), playwright.stop())).result()
    pool.shutdown()


def accord(live, *args, check=True, **env) -> subprocess.CompletedProcess:
    """`accord` with the server's settings and `env` on top, for this run only (so runs can
    go side by side)."""
    if not env:
        return live.accord(*args, check=check)
    result = subprocess.run(
        [str(BIN / "accord"), *args],
        env={**live.env, **env},
        cwd=live.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result


def import_site(live, config: dict, tmp_path: Path, **env) -> str:
    path = tmp_path / "site.json"
    path.write_text(json.dumps(config))
    out = accord(live, "site", "import", str(path), "--publish", "--json", **env).stdout
    return json.loads(out)["site_key"]


class Shop:
    def __init__(self, server: Server, site_key: str, third: Server):
        self.server, self.site_key, self.third = server, site_key, third
        self.url = server.url + "/"


@pytest.fixture(scope="module")
def shop(live_server, third_party, tmp_path_factory):  # noqa: F811
    app = ShopApp(live_server.url, "", third_party.url)
    server = Server(app)
    # Published as by a host without Chromium: its screenshots are skipped, not queued, so a
    # worker (test_scan_jobs.py) has only the scan to run; test_screenshots.py draws its own.
    app.site_key = import_site(
        live_server,
        site_config(server.url, "localhost"),
        tmp_path_factory.mktemp("shop"),
        ACCORD_CHROMIUM="/nonexistent/chromium",
    )
    yield Shop(server, app.site_key, third_party)
    server.stop()
