"""The scan's wait for a quiet network (browse.Traffic, ACCORD_SCAN_QUIET_MS): on a clock of
its own first, then in Chromium, with a request that starts late, one that answers slowly and
one that never answers."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cmp_server.scanner.browse import Traffic
from tests.scanner.fixture_site import POLL


class Clock:
    """A clock that only moves when the wait pumps; `at(t, f)` runs f once t is reached,
    as the browser's events arrive while Playwright waits."""

    def __init__(self):
        self.now, self.planned, self.pumps = 100.0, [], []

    def __call__(self) -> float:
        return self.now

    def at(self, when: float, action) -> None:
        self.planned.append((self.now + when, action))

    def pump(self, seconds: float) -> None:
        """Like page.wait_for_timeout: the whole time passes, events come on time meanwhile."""
        self.pumps.append(seconds)
        end = self.now + seconds
        for due in sorted((p for p in self.planned if p[0] <= end), key=lambda p: p[0]):
            self.planned.remove(due)
            self.now = due[0]
            due[1]()
        self.now = end

    def wait_quiet(self, traffic: Traffic, settle_ms: int = 1500) -> tuple[bool, float]:
        """`traffic.wait_quiet` with 200 ms of silence on this clock: (quiet, seconds waited)."""
        start = self.now
        quiet = traffic.wait_quiet(self.pump, quiet_ms=200, settle_ms=settle_ms)
        return quiet, self.now - start


def about(seconds: float):
    """A wait's length, give or take one shortest step (the clock's sums are not exact)."""
    return pytest.approx(seconds, abs=Traffic.MIN_STEP)


@pytest.fixture
def clock():
    return Clock()


def test_it_returns_after_quiet_ms_of_silence(clock):
    traffic = Traffic(clock)
    clock.now += 60  # silence before the wait: what the step did may not have reached us yet
    assert clock.wait_quiet(traffic) == (True, about(0.2))


def test_it_waits_while_a_request_is_in_flight(clock):
    traffic = Traffic(clock)
    traffic.started("slow")
    clock.at(0.9, lambda: traffic.ended("slow"))
    assert clock.wait_quiet(traffic) == (True, about(0.9 + 0.2))


def test_a_request_that_starts_within_the_window_starts_it_again(clock):
    traffic = Traffic(clock)
    clock.at(0.1, lambda: traffic.started("late"))
    clock.at(0.15, lambda: traffic.ended("late"))
    assert clock.wait_quiet(traffic) == (True, about(0.15 + 0.2))


def test_it_gives_up_at_settle_ms(clock):
    traffic = Traffic(clock)
    traffic.started("polling")
    assert clock.wait_quiet(traffic, settle_ms=700) == (False, about(0.7))
    assert traffic.in_flight == {"polling"}


def test_a_zero_window_does_not_wait_on_a_quiet_network(clock):
    traffic = Traffic(clock)
    assert traffic.wait_quiet(clock.pump, quiet_ms=0, settle_ms=1500)
    assert clock.pumps == []
    traffic.started("one")
    clock.at(0.05, lambda: traffic.ended("one"))
    assert traffic.wait_quiet(clock.pump, quiet_ms=0, settle_ms=1500)
    assert all(step >= Traffic.MIN_STEP for step in clock.pumps)  # no busy loop


# --- in Chromium --------------------------------------------------------------------------

SLOW_S = 0.4
PAGES = {
    # A request that fails (nothing listens on port 9) ends as surely as one answered.
    "/quiet": "<p>nothing more</p><img src='http://127.0.0.1:9/none.gif'>",
    # Starts 50 ms after the load event (when a step's `goto` returns), answers slowly.
    "/late": "<script>addEventListener('load', () => setTimeout(() => fetch('/slow'), 50))"
    "</script>",
    "/polling": "<script>fetch('/hang')</script>",
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/slow":
            time.sleep(SLOW_S)
        elif self.path == "/hang":
            self.server.release.wait(10)
        body = PAGES.get(self.path, "done").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.release = threading.Event()
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def in_browser(browser_thread):
    """`in_browser(work)`: work(page, traffic) on a fresh page of the module's Chromium."""

    def run(work):
        def one(browser):
            context = browser.new_context()
            try:
                traffic = Traffic()
                traffic.watch(context)
                return work(context.new_page(), traffic)
            finally:
                context.close()

        return browser_thread(one)

    return run


def settle(page, traffic, quiet_ms, settle_ms):
    """What the scan's `_settle` does: (quiet or not, seconds taken, URLs still in flight,
    {URL: seconds from its answer to the wait's end} of the requests answered meanwhile)."""
    finished = {}
    page.on("requestfinished", lambda request: finished.update({request.url: time.monotonic()}))
    start = time.monotonic()
    quiet = traffic.wait_quiet(lambda s: page.wait_for_timeout(s * 1000), quiet_ms, settle_ms)
    end = time.monotonic()
    answered = {url: end - at for url, at in finished.items()}
    return quiet, end - start, [r.url for r in traffic.in_flight], answered


def settle_on(in_browser, url, quiet_ms, settle_ms):
    """`settle` in Chromium, once the page at `url` has loaded."""

    def work(page, traffic):
        page.goto(url, wait_until="load")
        return settle(page, traffic, quiet_ms=quiet_ms, settle_ms=settle_ms)

    return in_browser(work)


def test_chromium_a_quiet_page_takes_the_window_and_no_more(in_browser, site):
    """Its failed request included: `requestfailed` ends it as `requestfinished` would."""
    url, _ = site
    quiet, took, in_flight, _ = settle_on(in_browser, url + "/quiet", 200, 5000)
    assert quiet and in_flight == []
    assert 0.2 <= took < 2  # far from settle_ms: it returned on the quiet window


def test_chromium_a_request_that_starts_late_and_answers_slowly_is_waited_for(in_browser, site):
    url, _ = site
    quiet, _, in_flight, answered = settle_on(in_browser, url + "/late", 200, 5000)
    assert quiet and in_flight == []
    assert list(answered) == [url + "/slow"]  # answered before the wait returned...
    # ...then the whole quiet window (give or take the microseconds between two listeners).
    assert answered[url + "/slow"] >= 0.19


def test_chromium_a_request_that_never_ends_gives_up_at_settle_ms(in_browser, site):
    url, _ = site
    quiet, took, in_flight, _ = settle_on(in_browser, url + "/polling", 100, 600)
    assert not quiet and in_flight == [url + "/hang"]
    assert 0.6 <= took < 3
