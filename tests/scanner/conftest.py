"""Scanner tests run against the live tier's real server (gunicorn, SQLite and PostgreSQL),
the `accord` CLI as a subprocess, Debian's Chromium, and the fixture sites of fixture_site.py.

What a page sets and sends, and the SSRF guard, do not depend on the database: those tests are
marked `sqlite_only` (tests/live/conftest.py). Storing a scan and reading it back does:
test_scan_jobs.py (the worker stores the report, the API and the console read it) runs on
both backends, and so does the screenshots job of test_screenshots.py.
"""

import json
from pathlib import Path

import pytest

from tests.live.conftest import live_server  # noqa: F401 - the live tier's server, per backend
from tests.scanner.fixture_site import Server, ShopApp, site_config, third_party_app

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _needs_chromium():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium package")


@pytest.fixture(scope="module")
def third_party():
    server = Server(third_party_app, hostname="localhost")
    yield server
    server.stop()


def import_site(live, config: dict, tmp_path: Path) -> str:
    path = tmp_path / "site.json"
    path.write_text(json.dumps(config))
    out = live.accord("site", "import", str(path), "--publish", "--json").stdout
    return json.loads(out)["site_key"]


class Shop:
    def __init__(self, server: Server, site_key: str, third: Server):
        self.server, self.site_key, self.third = server, site_key, third
        self.url = server.url + "/"


@pytest.fixture(scope="module")
def shop(live_server, third_party, tmp_path_factory):  # noqa: F811
    app = ShopApp(live_server.url, "", third_party.url)
    server = Server(app)
    app.site_key = import_site(
        live_server, site_config(server.url, "localhost"), tmp_path_factory.mktemp("shop")
    )
    yield Shop(server, app.site_key, third_party)
    server.stop()
