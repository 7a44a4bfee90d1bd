"""Drive headless Chromium through a site in the scan's three phases and note what it does.

Phase `before_choice`: a fresh profile loads the page and waits for the banner. Phase
`after_refuse`: "Refuse all" is clicked in the real banner, the page is reloaded, then up to
`pages` more same-origin pages (from the page's links and /sitemap.xml) are visited. Phase
`after_accept`: a second fresh profile clicks "Accept all" and visits the same pages. In each
phase the cookies (HttpOnly and third-party ones too, from the browser context), storage
names of every frame, requests to other hosts (with their initiator, from the DevTools
protocol) and fingerprinting calls (hooks.js, injected before any page script) are noted.

Nothing here knows the site's declarations: `classify` turns these observations into a report.
"""

import contextlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urldefrag, urljoin, urlsplit

from cmp_server.scanner import targets

BEFORE_CHOICE, AFTER_REFUSE, AFTER_ACCEPT = "before_choice", "after_refuse", "after_accept"
PHASES = (BEFORE_CHOICE, AFTER_REFUSE, AFTER_ACCEPT)
HOOKS_JS = Path(__file__).with_name("hooks.js")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BANNER = '[data-accord="banner"]'
NOT_PAGES = re.compile(r"\.(?:pdf|zip|gz|png|jpe?g|gif|svg|webp|mp4|mp3|css|js|xml|json)$", re.I)
WEB_SOCKETS = re.compile(r"^wss?://", re.I)
SITEMAP_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.I)
STORAGE_JS = """async () => {
  const out = {origin: location.origin, local: [], session: [], idb: [], calls: []};
  try { out.local = Object.keys(localStorage); } catch (e) {}
  try { out.session = Object.keys(sessionStorage); } catch (e) {}
  try { out.idb = (await indexedDB.databases()).map(d => d.name); } catch (e) {}
  const calls = window.__accordScanCalls;
  if (calls) out.calls = calls.splice(0, calls.length);
  return out;
}"""

T = TypeVar("T")


def in_own_thread(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own and return (or raise) what it does. Playwright's
    sync API refuses a thread that runs an asyncio loop (an async host, or a test session
    with pytest-playwright's browser open), so the browser work never shares the caller's."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-browser") as pool:
        return pool.submit(work).result()


class ScanError(Exception):
    """The scan could not run (no browser, page unreachable, no banner): exit status 2."""


@dataclass
class ScanOptions:
    """How a scan browses. From the operator's settings (service.options_from_config):
    ACCORD_CHROMIUM (`chromium`); ACCORD_SCAN_SETTLE_MS (`settle_ms`);
    ACCORD_SCAN_QUIET_MS (`quiet_ms`); and ACCORD_SCAN_BANNER_TIMEOUT_MS (`banner_timeout_ms`,
    default 10000): how long the scan waits for the banner to show, and for each click's
    effect, before it stops with "no Accord banner" (exit status 2): more for a slow site, less
    to fail fast on a test rig."""

    pages: int = 5
    chromium: str = "/usr/bin/chromium"
    settle_ms: int = 1500  # the longest wait for the network to go quiet after each step
    # How long no request may be in flight for the network to count as quiet: Playwright's
    # "networkidle" (500 ms) by default; less on a test rig whose pages answer at once.
    quiet_ms: int = 500
    banner_timeout_ms: int = 10_000
    navigation_timeout_ms: int = 30_000
    locale: str = "en-US"
    private_networks: bool = True  # False: no request to a private or loopback host (targets)


@dataclass
class Observations:
    """Everything seen, keyed so that a thing seen in several phases is one entry."""

    url: str
    site_key: str
    accord_origin: str = ""
    pages: list[str] = field(default_factory=list)
    cookies: dict = field(default_factory=dict)
    storage: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)
    fingerprinting: dict = field(default_factory=dict)

    @staticmethod
    def _add(table: dict, key: tuple, phase: str, **fields) -> None:
        entry = table.setdefault(key, {**fields, "phases": set()})
        entry["phases"].add(phase)


class Traffic:
    """The requests in flight in one browser context, from its events, for `wait_quiet`.
    Playwright's "networkidle" is not used: its 500 ms of silence is a constant, and a page
    reaches it once per navigation, so a wait for it after a click returns at once."""

    MIN_STEP = 0.01  # seconds: the shortest pause between two looks (quiet_ms may be 0)

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.in_flight: set = set()
        self.last_change = clock()

    def watch(self, context) -> None:
        context.on("request", self.started)
        context.on("requestfinished", self.ended)
        context.on("requestfailed", self.ended)  # aborted by the guard, cancelled, refused

    def started(self, request) -> None:
        self.in_flight.add(request)
        self.last_change = self.clock()

    def ended(self, request) -> None:
        self.in_flight.discard(request)
        self.last_change = self.clock()

    def wait_quiet(self, pump: Callable[[float], None], quiet_ms: int, settle_ms: int) -> bool:
        """Return True once no request has been in flight for `quiet_ms`, False when that
        did not happen within `settle_ms` (a page that keeps polling). `pump(seconds)` waits
        while the browser's events are delivered (page.wait_for_timeout). Silence counts from
        the call at the earliest: what the step just did may not have reached us yet."""
        start = self.clock()
        quiet, deadline = quiet_ms / 1000, start + settle_ms / 1000
        while True:
            now = self.clock()
            silent = 0.0 if self.in_flight else now - max(self.last_change, start)
            if silent >= quiet:
                return True
            if now >= deadline:
                return False
            pump(min(max(quiet - silent, self.MIN_STEP), deadline - now))


def _is_consent_post(response) -> bool:
    """Whether `response` answers the POST of a decision to Accord's consent endpoint."""
    request = response.request
    return request.method == "POST" and urlsplit(request.url).path.endswith("/consents")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def same_origin_pages(start: str, candidates: list[str], limit: int) -> list[str]:
    """Up to `limit` distinct pages of the start URL's origin, in the order found."""
    origin, found = origin_of(start), []
    seen = {urldefrag(start)[0]}
    for candidate in candidates:
        url = urldefrag(urljoin(start, candidate))[0]
        if len(found) >= limit:
            break
        if origin_of(url) != origin or url in seen or NOT_PAGES.search(urlsplit(url).path):
            continue
        seen.add(url)
        found.append(url)
    return found


class Scanner:
    """One scan: `run()` returns the Observations or raises ScanError."""

    def __init__(
        self,
        url: str,
        site_key: str,
        options: ScanOptions,
        progress: Callable[[str, int, int], None] | None = None,
    ):
        self.url, self.site_key, self.options = url, site_key, options
        self.progress = progress or (lambda phase, done, total: None)
        self.seen = Observations(url=url, site_key=site_key)
        self.phase = BEFORE_CHOICE
        self.done = 0
        self.total = 2 + 2 * (1 + options.pages)  # refined once the pages are known
        self.initiators: dict[str, str] = {}
        self.traffic = Traffic()  # of the phase's context (_open)
        self.private_hosts: dict[str, bool] = {}  # host -> private, resolved once per scan

    def run(self, browser=None) -> Observations:
        """Scan in a Chromium of its own, launched for this scan and closed after; or in
        `browser`, one already running in this thread and left open (tests that scan
        several times: a launch costs about a second)."""
        if browser is None and not Path(self.options.chromium).exists():
            raise ScanError(f"{self.options.chromium} is missing: install Debian's chromium")
        from playwright.sync_api import Error, sync_playwright

        try:
            if browser is not None:
                self._browse(browser)
            else:
                with sync_playwright() as playwright:
                    own = playwright.chromium.launch(
                        executable_path=self.options.chromium, args=CHROMIUM_ARGS
                    )
                    try:
                        self._browse(own)
                    finally:
                        own.close()
        except Error as exc:
            raise ScanError(f"the browser failed: {str(exc).splitlines()[0]}") from exc
        for entry in self.seen.requests.values():
            entry["initiator"] = self.initiators.get(entry.pop("initiator_url"), "")
        return self.seen

    # --- the phases -------------------------------------------------------------------------

    def _browse(self, browser) -> None:
        pages = self._refuse(browser)
        self._accept(browser, pages)

    def _refuse(self, browser) -> list[str]:
        context, page = self._open(browser)
        try:
            self._load(page, self.url, BEFORE_CHOICE)
            self._decide(page, "reject_all", AFTER_REFUSE)
            self._reload(page)
            pages = same_origin_pages(
                self.url, self._links(page) + self._sitemap(context), self.options.pages
            )
            self.seen.pages = [self.url, *pages]
            self.total = self.done + len(pages) + 2 + len(pages)
            for url in pages:
                self._load(page, url, AFTER_REFUSE)
            return pages
        finally:
            context.close()

    def _accept(self, browser, pages: list[str]) -> None:
        context, page = self._open(browser)
        try:
            self._load(page, self.url, BEFORE_CHOICE)
            self._decide(page, "accept_all", AFTER_ACCEPT)
            self._reload(page)
            for url in pages:
                self._load(page, url, AFTER_ACCEPT)
        finally:
            context.close()

    # --- steps ------------------------------------------------------------------------------

    def _open(self, browser):
        context = browser.new_context(locale=self.options.locale)
        context.set_default_timeout(self.options.banner_timeout_ms)
        context.set_default_navigation_timeout(self.options.navigation_timeout_ms)
        context.add_init_script(path=str(HOOKS_JS))
        if not self.options.private_networks:
            context.route("**/*", self._guard)
            context.route_web_socket(WEB_SOCKETS, self._guard_socket)
        context.on("request", self._on_request)
        self.traffic = Traffic()
        self.traffic.watch(context)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._on_will_be_sent)
        cdp.send("Network.enable")
        return context, page

    def _load(self, page, url: str, phase: str) -> None:
        self.phase = phase
        self._step(phase)
        from playwright.sync_api import Error

        try:
            response = page.goto(url, wait_until="load")
        except Error as exc:
            raise ScanError(f"could not load {url}: {str(exc).splitlines()[0]}") from exc
        self._check_redirects(response)
        if url == self.url and (response is None or response.status >= 400):
            status = response.status if response else "no answer"
            raise ScanError(f"{url} answered {status}")
        self._settle(page)
        self._collect(page)

    def _is_private(self, url: str) -> bool:
        if not url.startswith(("http://", "https://", "ws://", "wss://")):
            return False
        host = urlsplit(url).hostname or ""
        if host not in self.private_hosts:
            self.private_hosts[host] = targets.is_private_host(host)
        return self.private_hosts[host]

    def _guard(self, route) -> None:
        """Abort a request to a private or loopback host (a page's link, image, iframe...)."""
        if self._is_private(route.request.url):
            route.abort("blockedbyclient")
        else:
            route.fallback()

    def _guard_socket(self, socket) -> None:
        """Close a WebSocket to a private host before it connects; pass the others through."""
        if self._is_private(socket.url):
            socket.close(code=1008, reason="private address")
        else:
            socket.connect_to_server()

    def _check_redirects(self, response) -> None:
        """Stop when a navigation was redirected to a private host: routes do not see
        redirects, so nothing of such a page may reach the report."""
        if self.options.private_networks or response is None:
            return
        request = response.request
        while request is not None:
            if self._is_private(request.url):
                raise ScanError(
                    f"{without_query(request.url)} is a private or local address: the scan "
                    "does not follow a redirect there (ACCORD_SCAN_PRIVATE_NETWORKS=1 allows it)"
                )
            request = request.redirected_from

    def _decide(self, page, action: str, phase: str) -> None:
        """Click Accept/Refuse all in the real banner, then wait for the decision to apply."""
        from playwright.sync_api import Error
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_selector(BANNER, state="visible")
        except Error:
            raise ScanError(
                f"no Accord banner appeared on {page.url} within "
                f"{self.options.banner_timeout_ms / 1000:g} s (is the snippet of site "
                f"{self.site_key} on the page, and the site published?)"
            ) from None
        self._find_accord(page)
        self.phase = phase  # what the click sets off belongs to the phase it starts
        # The decision's POST is awaited, not left to `_settle`: a slow server may answer it
        # after the quiet window, and the receipt Accord stores on the answer would be missed.
        with contextlib.suppress(PlaywrightTimeout), page.expect_response(_is_consent_post):
            page.locator(f'{BANNER} [data-accord-action="{action}"]').first.click()
        page.wait_for_function("() => window.Accord && window.Accord.getConsent() !== null")
        self._settle(page)
        self._collect(page)

    def _reload(self, page) -> None:
        self._step(self.phase)
        self._check_redirects(page.reload(wait_until="load"))
        self._settle(page)
        self._collect(page)

    def _step(self, phase: str) -> None:
        self.done += 1
        self.progress(phase, self.done, max(self.total, self.done))

    def _settle(self, page) -> None:
        """Wait for the network to go quiet (or settle_ms: what a page that keeps polling
        did by then is noted all the same)."""
        from playwright.sync_api import Error

        with contextlib.suppress(Error):  # the page went away meanwhile
            self.traffic.wait_quiet(
                lambda seconds: page.wait_for_timeout(seconds * 1000),
                self.options.quiet_ms,
                self.options.settle_ms,
            )

    def _find_accord(self, page) -> None:
        if self.seen.accord_origin:
            return
        src = page.evaluate(
            "key => { const s = [...document.scripts].find("
            "e => e.src && new URL(e.src).pathname.includes('/s/' + key));"
            " return s ? s.src : ''; }",
            self.site_key,
        )
        self.seen.accord_origin = origin_of(src) if src else ""

    def _links(self, page) -> list[str]:
        return page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")

    def _sitemap(self, context) -> list[str]:
        from playwright.sync_api import Error

        try:
            answer = context.request.get(
                origin_of(self.url) + "/sitemap.xml",
                timeout=5000,
                max_redirects=20 if self.options.private_networks else 0,
            )
        except Error:
            return []
        if not answer.ok:
            return []
        return SITEMAP_LOC.findall(answer.text())

    # --- what is noted ----------------------------------------------------------------------

    def _collect(self, page) -> None:
        """Cookies of the whole context; storage names and fingerprinting calls of each frame."""
        for cookie in page.context.cookies():
            host = cookie["domain"].lstrip(".")
            self.seen._add(
                self.seen.cookies,
                (cookie["name"], host),
                self.phase,
                name=cookie["name"],
                host=host,
                http_only=cookie["httpOnly"],
            )
        for frame in page.frames:
            try:
                found = frame.evaluate(STORAGE_JS)
            except Exception:  # noqa: S112 - a frame that went away while we asked
                continue
            host = urlsplit(found["origin"]).netloc if found["origin"] != "null" else ""
            for area, names in (
                ("localStorage", found["local"]),
                ("sessionStorage", found["session"]),
                ("indexedDB", found["idb"]),
            ):
                for name in names:
                    key = (area, name, host)
                    self.seen._add(
                        self.seen.storage, key, self.phase, name=name, host=host, area=area
                    )
            for call in found["calls"]:
                script = call["script"] or call["page"]
                key = (call["technique"], script)
                self.seen._add(
                    self.seen.fingerprinting,
                    key,
                    self.phase,
                    name=call["technique"],
                    host=urlsplit(script).netloc,
                    script=without_query(script),
                    detail=call["detail"],
                )

    def _on_will_be_sent(self, params: dict) -> None:
        request, initiator = params.get("request", {}), params.get("initiator", {})
        url = request.get("url", "")
        if request.get("isLinkPreload"):
            text = f"<link rel=preload> in {without_query(initiator.get('url') or '')}"
        elif initiator.get("type") == "script":
            frames = (initiator.get("stack") or {}).get("callFrames") or []
            script = next((f["url"] for f in frames if f.get("url")), "")
            text = f"script {without_query(script)}" if script else "script"
        elif initiator.get("type") == "parser":
            text = f"HTML of {without_query(initiator.get('url') or '')}"
        else:
            text = ""  # "other": Chromium does not say
        self.initiators.setdefault(url, text)  # the first request for a URL says who asked

    def _on_request(self, request) -> None:
        url = request.url
        if not url.startswith(("http://", "https://")):
            return
        host = urlsplit(url).netloc
        if host == urlsplit(self.url).netloc:
            return  # first-party requests are the site itself
        name = without_query(url)
        self.seen._add(
            self.seen.requests,
            (name,),
            self.phase,
            name=name,
            host=host,
            resource_type=request.resource_type,
            initiator_url=url,
        )

    def initiator_of(self, url: str) -> str:
        return self.initiators.get(url, "")
