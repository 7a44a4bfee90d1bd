"""The scanner as an attacker sees it: a marketer may add any origin to a site and scan it, so
without a guard the server's Chromium would load the network it runs in. By default a scan
started from the admin API or the console refuses a private or loopback target; the operator
allows one with ACCORD_SCAN_PRIVATE_NETWORKS=1 (the other live tests do, to scan fixture sites).
The guard does not depend on the database: SQLite only, on two servers (the module's
`live_server`, which allows private targets, and `guarded`, which refuses them). Sites,
accounts and tokens are made over HTTP (`SetUp`).
"""

import pytest

from tests.live.conftest import csrf_token
from tests.live.over_http import SetUp
from tests.scanner.fixture_site import site_config

pytestmark = pytest.mark.sqlite_only

INTERNAL = [
    "http://127.0.0.1:6379/",
    "http://localhost:8080/admin",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/",
    "http://0.0.0.0:5432/",
]


def site_with_origins(setup: SetUp, origins) -> str:
    """The scanner fixture shop's declarations under other origins, published."""
    config = {**site_config(origins[0], "127.0.0.1"), "name": "Attack", "origins": origins}
    return setup.import_site(config, publish=True)


@pytest.fixture(scope="module")
def guarded(more_live_servers) -> SetUp:
    """A server as installed: private and loopback targets refused (with its set-up admin)."""
    return SetUp(more_live_servers(ACCORD_SCAN_PRIVATE_NETWORKS="0"))


@pytest.fixture(scope="module")
def allowing(live_server) -> SetUp:
    """The module's server, which allows private targets (with its set-up admin)."""
    return SetUp(live_server)


def test_a_marketer_cannot_point_the_server_browser_at_internal_addresses(guarded):
    server = guarded.server
    origins = [u.split("/", 3)[0] + "//" + u.split("/", 3)[2] for u in INTERNAL]
    site_key = site_with_origins(guarded, origins)
    _, token = guarded.user_with_token("m@example.com", "marketer")
    for url in INTERNAL:
        answer = server.api("POST", f"/sites/{site_key}/scans", token, json={"url": url})
        assert answer.status_code == 400, (url, answer.status_code, answer.text)
        assert "url" in answer.json()["error"]["fields"], answer.text
    assert server.api("GET", f"/sites/{site_key}/scans", token).json()["scans"] == []
    # the console form refuses it too
    password = guarded.user("m2@example.com", "marketer")
    browser = server.login("m2@example.com", password)
    page = browser.get(f"{server.url}/admin/sites/{site_key}/scans", timeout=30)
    sent = browser.post(
        f"{server.url}/admin/sites/{site_key}/scans",
        data={"url": INTERNAL[0], "pages": "0", "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert sent.status_code in (200, 400) and "private or local address" in sent.text
    assert server.api("GET", f"/sites/{site_key}/scans", token).json()["scans"] == []


def test_the_operator_setting_allows_private_targets(allowing):
    server = allowing.server
    assert server.env["ACCORD_SCAN_PRIVATE_NETWORKS"] == "1"
    site_key = site_with_origins(allowing, ["http://127.0.0.1:9"])
    _, token = allowing.user_with_token("m@example.com", "marketer")
    answer = server.api(
        "POST", f"/sites/{site_key}/scans", token, json={"url": "http://127.0.0.1:9/", "pages": 0}
    )
    assert answer.status_code == 202, answer.text


def test_the_operator_cli_may_scan_a_private_address(guarded):
    server = guarded.server
    site_key = site_with_origins(guarded, ["http://127.0.0.1:9"])
    result = server.accord("scan", "--site", site_key, "http://127.0.0.1:9/", check=False)
    assert result.returncode == 2
    assert "private or local" not in result.stdout + result.stderr
    assert "127.0.0.1:9" in result.stdout + result.stderr  # it tried: nothing listens there
