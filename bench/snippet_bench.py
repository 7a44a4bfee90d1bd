"""Issue 3's snippet benchmark (DESIGN.md, Targets): size and page cost of the banner.

For Accord's demo site (served by gunicorn) and, in the same browser run, the reference
banners named in DESIGN.md (installed from npm into bench/banners, never from a CDN, each
configured minimally with 3 categories where it has categories), it prints:

- gzip: Accord's `GET /s/<key>.js` response with `Accept-Encoding: gzip` (engine, CSS and
  config, as served); for a reference, gzip -9 of every JS and CSS file its page fetched;
- the median over N fresh loads (a new browser context each) of the time from navigation
  start until the banner is visible, of long tasks (count and total ms) and of the
  cumulative layout shift;
- axe-core's WCAG 2.1 A/AA violations with the banner open (rule ids).

Like with like: every banner, Accord's included, is on the same page shell served by the same
local server, loaded as its documentation says (classic scripts; Accord's, osano's and
orestbida's at the end of the body, tarteaucitron's in the head, Klaro's deferred); Accord's
script comes from its own gunicorn, as deployed, the references' files from the page's
server. Accord's /demo page (script in the head, CSP, trackers) is measured too, for
information. The loads are interleaved, one of each banner per round in an order that
rotates, after one discarded warm-up round, so a burst of load on this shared machine, or a
browser still warming up, falls on every banner alike rather than on whichever is measured
first or at that moment.

The probe only observes: once per animation frame it checks whether the banner is rendered
and not transparent, and the first frame where it is gives the time (the frame that paints
it). It never checks from inside the banner's own task (a MutationObserver callback would
force a style and layout there, which the browser would otherwise do in its rendering step,
and count it in the banner script's long task).

    .venv/bin/python bench/snippet_bench.py [--loads 10] [--only accord,klaro]
"""

import argparse
import gzip
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from contextlib import ExitStack, contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import accord, accord_env, database, gunicorn  # noqa: E402
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, run_axe  # noqa: E402

BANNERS = Path(__file__).resolve().parent / "banners"
GZIP_TARGET = 6800  # bytes: "under 6.8 KB", read as 6,800 B
ACCORD_BARE = "Accord (same bare page as the others)"
ACCORD_DEMO = "Accord (its /demo page, trackers, CSP)"

# Watches for the banner from the first frame: each animation frame checks whether SELECTOR
# is rendered and not transparent; the first time it is, the time since navigation start is
# kept. Long tasks and layout shifts are observed throughout.
PROBE = """
(() => {
  const b = (window.__bench = { visible: null, longtasks: [], cls: 0, shifted: [] });
  new PerformanceObserver((l) => l.getEntries().forEach((e) => b.longtasks.push(e.duration)))
    .observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) =>
    l.getEntries().forEach((e) => {
      if (e.hadRecentInput) return;
      b.cls += e.value;
      for (const s of e.sources || [])
        b.shifted.push(s.node?.nodeName + '.' + (s.node?.className || ''));
    }))
    .observe({ type: 'layout-shift', buffered: true });
  const shown = () => {
    const el = document.querySelector(SELECTOR);
    if (!el || !el.getClientRects().length) return false;
    const s = getComputedStyle(el);
    return s.visibility != 'hidden' && s.display != 'none' && parseFloat(s.opacity) > 0;
  };
  const frame = () => {
    if (shown()) b.visible = performance.now();
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
"""

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
{head}</head><body><main><h1>Shop</h1><p>A product page with some text on it.</p>
<p><a href="/privacy">Privacy policy</a></p></main>{body}</body></html>"""

NM = "/node_modules"
# name: (label, banner selector, head, body). Each configured minimally, 3 categories
# (necessary, analytics, marketing) where the banner has categories.
REFERENCES = {
    "osano": (
        "osano/cookieconsent 3.1.1",
        ".cc-window",
        f'<link rel="stylesheet" href="{NM}/cookieconsent/build/cookieconsent.min.css">',
        f'<script src="{NM}/cookieconsent/build/cookieconsent.min.js"></script>'
        "<script>window.cookieconsent.initialise({type: 'opt-in', "
        "content: {href: '/privacy'}});</script>",
    ),
    "orestbida": (
        "orestbida/cookieconsent 3.1.0",
        "#cc-main .cm",
        f'<link rel="stylesheet" href="{NM}/vanilla-cookieconsent/dist/cookieconsent.css">',
        f'<script src="{NM}/vanilla-cookieconsent/dist/cookieconsent.umd.js"></script>'
        """<script>CookieConsent.run({hideFromBots: false,
  categories: {necessary: {enabled: true, readOnly: true}, analytics: {}, marketing: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'We value your privacy', description: 'We use cookies.',
      acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Refuse all',
      showPreferencesBtn: 'Customize'},
    preferencesModal: {title: 'Your choices', acceptAllBtn: 'Accept all',
      acceptNecessaryBtn: 'Refuse all', savePreferencesBtn: 'Save', closeIconLabel: 'Close',
      sections: [{title: 'Necessary', linkedCategory: 'necessary'},
                 {title: 'Analytics', linkedCategory: 'analytics'},
                 {title: 'Marketing', linkedCategory: 'marketing'}]}}}}});</script>""",
    ),
    "tarteaucitron": (
        "tarteaucitron 1.34.0",
        "#tarteaucitronAlertBig",
        f'<script src="{NM}/tarteaucitronjs/tarteaucitron.min.js"></script>',
        """<script>tarteaucitron.init({privacyUrl: '/privacy', hashtag: '#tarteaucitron',
  cookieName: 'tarteaucitron', orientation: 'bottom', showAlertSmall: false, cookieslist: false,
  highPrivacy: true, AcceptAllCta: true, DenyAllCta: true, mandatory: true, useExternalCss: false});
tarteaucitron.user.gtagUa = 'G-BENCH';
tarteaucitron.user.facebookpixelId = '0';
(tarteaucitron.job = tarteaucitron.job || []).push('gtag', 'facebookpixel');</script>""",
    ),
    "klaro": (
        "Klaro 0.7.22",
        ".klaro .cookie-notice",
        """<script>window.klaroConfig = {elementID: 'klaro', storageMethod: 'cookie',
  default: false, mustConsent: false, acceptAll: true, hideDeclineAll: false,
  privacyPolicy: '/privacy', translations: {en: {purposes: {analytics: 'Analytics',
  marketing: 'Marketing'}, stats: {description: 'Statistics'}, ads: {description: 'Ads'}}},
  services: [{name: 'session', purposes: ['necessary'], required: true},
             {name: 'stats', purposes: ['analytics']}, {name: 'ads', purposes: ['marketing']}]};
</script>"""
        f'<script defer src="{NM}/klaro/dist/klaro.js"></script>',
        "",
    ),
}


class BannerPages(SimpleHTTPRequestHandler):
    """bench/banners over http: /<name>.html pages (PAGE with each banner's head and body,
    Accord's too) and node_modules files; notes each file fetched."""

    fetched: list
    pages: dict  # name -> (head, body)

    def do_GET(self):
        name = self.path.split("?")[0].strip("/").removesuffix(".html")
        if name in self.pages:
            head, body = self.pages[name]
            data = PAGE.format(head=head, body=body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.fetched.append(self.path.split("?")[0])
        super().do_GET()

    def log_message(self, *args):
        pass


def ensure_banners():
    if not (BANNERS / "node_modules").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=BANNERS, check=True
        )


def gzip9(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def load_once(browser, url: str, selector: str) -> dict:
    """One fresh load (new context: no cache, no cookies): what the probe saw."""
    context = browser.new_context()
    context.add_init_script(PROBE.replace("SELECTOR", json.dumps(selector)))
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.__bench.visible != null", timeout=8000)
    page.wait_for_timeout(400)  # late long tasks and shifts (animations) are counted too
    seen = page.evaluate("() => window.__bench")
    context.close()
    return seen


def axe_rules(browser, url: str, selector: str) -> list[str]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.locator(selector).first.wait_for(state="visible", timeout=15000)
    page.wait_for_timeout(500)
    rules = sorted(v["id"] for v in run_axe(page))
    context.close()
    return rules


def medians(loads: list[dict]) -> dict:
    return {
        "visible_ms": statistics.median(b["visible"] for b in loads),
        "longtasks": statistics.median(len(b["longtasks"]) for b in loads),
        "longtask_ms": statistics.median(sum(b["longtasks"]) for b in loads),
        "cls": statistics.median(b["cls"] for b in loads),
        "shifted": sorted({s for b in loads for s in b["shifted"]}),
    }


@contextmanager
def accord_server():
    """Accord's demo site under gunicorn; yields (base URL, site key, gzip bytes served)."""
    with (
        tempfile.TemporaryDirectory(prefix="accord-snippet-bench-") as instance,
        database("sqlite") as url,
    ):
        env = accord_env(url, instance, ACCORD_DEMO_PASSWORD=secrets.token_urlsafe(16))
        accord(env, "db", "upgrade")
        with gunicorn("wsgi:app", env, workers=1, threads=4) as base:
            accord(env, "demo", "--origin", base)
            site_key = json.loads(accord(env, "site", "list", "--json"))[0]["site_key"]
            request = urllib.request.Request(
                f"{base}/s/{site_key}.js", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(request) as response:
                assert response.headers["Content-Encoding"] == "gzip"
                size = len(response.read())
            yield base, site_key, size


@contextmanager
def page_server(pages: dict):
    """The one local server of every bench page; yields (its URL, the files it served)."""
    fetched = []
    handler = type("Pages", (BannerPages,), {"fetched": fetched, "pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(BANNERS)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", fetched
    finally:
        server.shutdown()
        server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=10, help="fresh page loads per banner")
    parser.add_argument("--only", help="comma-separated: accord," + ",".join(REFERENCES))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else ["accord", *REFERENCES]
    ensure_banners()
    with ExitStack() as stack:
        pages = {name: REFERENCES[name][2:] for name in names if name in REFERENCES}
        if "accord" in names:
            base, site_key, accord_size = stack.enter_context(accord_server())
            pages["accord"] = ("", f'<script src="{base}/s/{site_key}.js"></script>')
        url, fetched = stack.enter_context(page_server(pages))
        targets = []  # (row label, page URL, banner selector, gzip bytes or None)
        for name in names:
            if name == "accord":
                accord_banner = '[data-accord="banner"]'
                targets += [
                    (ACCORD_BARE, f"{url}/accord.html", accord_banner, accord_size),
                    (ACCORD_DEMO, f"{base}/demo", accord_banner, accord_size),
                ]
            else:
                label, selector, _, _ = REFERENCES[name]
                targets.append((label, f"{url}/{name}.html", selector, None))

        from playwright.sync_api import sync_playwright

        p = stack.enter_context(sync_playwright())
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        seen = {label: [] for label, *_ in targets}
        files = {}  # label -> the JS and CSS files its page fetched from the page server
        for round_ in range(args.loads + 1):  # round 0 warms up and is not counted
            print(f"round {round_}/{args.loads}...", file=sys.stderr, flush=True)
            turn = round_ % len(targets)
            for label, page_url, selector, _ in targets[turn:] + targets[:turn]:
                fetched.clear()
                result = load_once(browser, page_url, selector)
                if round_:
                    seen[label].append(result)
                files.setdefault(label, sorted({f for f in fetched if f.endswith((".js", ".css"))}))
        rows = []
        for label, page_url, selector, size in targets:
            if size is None:
                size = sum(gzip9((BANNERS / f.lstrip("/")).read_bytes()) for f in files[label])
            rows.append(
                {
                    "label": label,
                    "gzip": size,
                    "files": files[label],
                    "axe": axe_rules(browser, page_url, selector),
                    **medians(seen[label]),
                }
            )

    print(f"\nSnippet benchmark: median of {args.loads} fresh loads, headless Chromium")
    print(
        f"  {'banner':<42} {'gzip B':>7} {'visible ms':>10} {'long tasks':>10} "
        f"{'long ms':>8} {'CLS':>6}  axe violations"
    )
    for r in rows:
        print(
            f"  {r['label']:<42} {r['gzip']:>7} {r['visible_ms']:>10.1f} {r['longtasks']:>10g} "
            f"{r['longtask_ms']:>8.1f} {r['cls']:>6.3f}  {len(r['axe'])} {' '.join(r['axe'])}"
        )
    for r in rows:
        if r.get("files"):
            print(f"  {r['label']} files: {' '.join(r['files'])}")
        if r["shifted"]:
            print(f"  {r['label']} layout shifts moved: {' '.join(r['shifted'])}")

    if names[0] == "accord":
        a, refs = rows[0], rows[2:]
        print("\nAccord's targets:")
        checks = [
            (f"gzip total {a['gzip']} B under 6.8 KB ({GZIP_TARGET} B)", a["gzip"] < GZIP_TARGET),
            (f"no long task (median {a['longtasks']:g})", a["longtasks"] == 0),
            (f"layout shift 0 (median {a['cls']:.3f})", a["cls"] == 0),
            (f"axe-core finds nothing ({len(a['axe'])})", not a["axe"]),
        ]
        if refs:
            fastest = min(refs, key=lambda r: r["visible_ms"])
            checks.append(
                (
                    f"banner visible {a['visible_ms']:.1f} ms no later than the fastest "
                    f"reference ({fastest['label']}, {fastest['visible_ms']:.1f} ms)",
                    a["visible_ms"] <= fastest["visible_ms"],
                )
            )
        for text, ok in checks:
            print(f"  [{'OK' if ok else 'MISSED'}] {text}")


if __name__ == "__main__":
    main()
