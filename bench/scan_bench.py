"""Scan time for a 10-page fixture site, next to a reference measured in the same run.

The reference is the floor a scan cannot beat: the same Chromium loading the same pages
(start page + 9 more, twice: after refusing and after accepting) with nothing else, each page
waited on the same way (load, then the network quiet for up to the same settle time). The
scan adds the banner clicks, the hooks, the DevTools initiators and the collection.

    .venv/bin/python bench/scan_bench.py [--pages 9] [--runs 3]
"""

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmp_server.extensions import db  # noqa: E402
from cmp_server.scanner.browse import CHROMIUM_ARGS, ScanOptions  # noqa: E402
from cmp_server.scanner.service import scan_site  # noqa: E402
from cmp_server.services import publishing, sites  # noqa: E402
from cmp_server.services.audit import CLI_ACTOR  # noqa: E402
from tests.fixtures.browser import LiveServer, make_live_app  # noqa: E402
from tests.scanner.fixture_site import PagesApp, Server, site_config  # noqa: E402


def reference(urls: list[str], options: ScanOptions) -> float:
    """Seconds for Chromium to load the pages of both phases, and nothing more."""
    from playwright.sync_api import Error, sync_playwright

    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=options.chromium, args=CHROMIUM_ARGS)
        for _ in range(2):  # the refusal phase's and the acceptance phase's profile
            context = browser.new_context()
            page = context.new_page()
            for url in [urls[0], *urls]:  # the reload after the decision, then every page
                page.goto(url, wait_until="load")
                with contextlib.suppress(Error):
                    page.wait_for_load_state("networkidle", timeout=options.settle_ms)
            context.close()
        browser.close()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=9, help="pages after the start page")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = make_live_app(Path(tempfile.mkdtemp()))
    accord = LiveServer(app).start()
    pages_app = PagesApp(accord.url, "", args.pages + 1)
    site_server = Server(pages_app)
    options = ScanOptions(pages=args.pages)
    with app.app_context():
        site = sites.import_site(site_config(site_server.url, "localhost"))
        publishing.publish(site, None, CLI_ACTOR)
        db.session.commit()
        pages_app.site_key = site.site_key
        urls = [site_server.url + "/"] + [
            f"{site_server.url}/p{i}" for i in range(1, args.pages + 1)
        ]
        scans, references = [], []
        for _ in range(args.runs):
            references.append(reference(urls, options))
            started = time.perf_counter()
            report = scan_site(db.session.get(type(site), site.id), urls[0], options)
            scans.append(time.perf_counter() - started)
            assert len(report["pages"]) == args.pages + 1, report["pages"]
    accord.stop()
    site_server.stop()
    scan, ref = statistics.median(scans), statistics.median(references)
    print(f"scan of {args.pages + 1} pages (3 phases): median {scan:.2f} s over {args.runs} runs")
    print(f"reference, Chromium loading the same pages: median {ref:.2f} s")
    print(f"ratio scan / reference: {scan / ref:.2f}  (verdict {report['verdict']})")


if __name__ == "__main__":
    main()
