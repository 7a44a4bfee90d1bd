"""The scanner's browser, guarded (ScanOptions.private_networks=False, as for scans staff
start): a page of the site cannot make it load a private address, by a link, an image or a
redirect. Here only 127.0.0.2 counts as private, so the site itself can run on 127.0.0.1."""

import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cmp_server.scanner import targets
from cmp_server.scanner.browse import ScanError, Scanner, ScanOptions
from tests.scanner.conftest import QUIET_MS
from tests.scanner.fixture_site import POLL


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.server.hits.append(self.path)
        answer = self.server.pages.get(self.path)
        if answer is None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"internal secret")
        elif answer.startswith("redirect:"):
            self.send_response(302)
            self.send_header("Location", answer.removeprefix("redirect:"))
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


def _serve(host: str, pages: dict):
    server = ThreadingHTTPServer((host, 0), _Handler)
    server.hits, server.pages = [], pages
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    return server


@pytest.fixture
def internal():
    server = _serve("127.0.0.2", {})
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(internal):
    secret = f"http://127.0.0.2:{internal.server_port}/secret"
    server = _serve(
        "127.0.0.1",
        {
            "/": f'<img src="{secret}"><iframe src="{secret}-frame"></iframe>'
            f'<a href="{secret}-link">x</a>'
            f"<script>new WebSocket('{secret.replace('http', 'ws')}-socket')</script>",
            "/moved": f"redirect:{secret}-redirect",
        },
    )
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def only_127_0_0_2_is_private(monkeypatch):
    monkeypatch.setattr(targets, "is_private_host", lambda host: host == "127.0.0.2")


@pytest.fixture
def scan(browser_thread):
    """scan(url, private_networks): a scan in the module's Chromium (each in fresh contexts,
    as every scan is)."""

    def run(url: str, private_networks: bool) -> None:
        options = ScanOptions(
            pages=2,
            settle_ms=300,
            quiet_ms=QUIET_MS,
            banner_timeout_ms=1000,
            private_networks=private_networks,
        )
        browser_thread(Scanner(url, "no-such-key", options).run)

    return run


def test_requests_from_the_page_to_a_private_host_are_aborted(site, internal, scan):
    with pytest.raises(ScanError, match="no Accord banner"):
        scan(f"http://127.0.0.1:{site.server_port}/", private_networks=False)
    assert internal.hits == []


def test_without_the_guard_the_page_reaches_the_private_host(site, internal, scan):
    with pytest.raises(ScanError, match="no Accord banner"):
        scan(f"http://127.0.0.1:{site.server_port}/", private_networks=True)
    assert {"/secret", "/secret-socket"} <= set(internal.hits)


def test_a_redirect_to_a_private_host_stops_the_scan(site, internal, scan):
    with pytest.raises(ScanError, match="private or local address"):
        scan(f"http://127.0.0.1:{site.server_port}/moved", private_networks=False)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "::1",
        "[::1]",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "224.0.0.1",
    ],
)
def test_local_addresses_are_private(host, monkeypatch):
    monkeypatch.undo()
    assert targets.is_private_host(host)


def test_public_addresses_are_not_private(monkeypatch):
    monkeypatch.undo()
    assert not targets.is_private_host("93.184.215.14")
    assert not targets.is_private_host("2606:4700::1111")
    assert not targets.is_private_host("no-such-host.invalid")


def test_private_targets_are_refused_unless_the_operator_allows_them():
    from config import scanner_settings

    assert scanner_settings({})["ACCORD_SCAN_PRIVATE_NETWORKS"] is False
    assert scanner_settings({"ACCORD_SCAN_PRIVATE_NETWORKS": "1"})["ACCORD_SCAN_PRIVATE_NETWORKS"]
    assert ScanOptions().private_networks  # the library and the CLI: the operator's own call


@pytest.mark.sqlite_only
def test_the_guard_changes_nothing_a_scan_of_a_public_site_sees(shop):
    """Routing every request through the guard keeps cookies, storage and requests intact.
    (The two scans are independent, each in its own browser: they run side by side.)"""

    def observe(private_networks: bool):
        options = ScanOptions(
            pages=1, settle_ms=500, quiet_ms=QUIET_MS, private_networks=private_networks
        )
        return Scanner(shop.url, shop.site_key, options).run()

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="accord-browser") as pool:
        guarded, open_ = pool.map(observe, (False, True))
    assert guarded.cookies.keys() == open_.cookies.keys()
    assert guarded.storage.keys() == open_.storage.keys()
    assert guarded.requests.keys() == open_.requests.keys()
    assert guarded.cookies and guarded.requests  # the fixture shop sets and sends both
