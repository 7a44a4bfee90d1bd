"""Draw a published revision with the real snippet in headless Chromium and keep the PNGs.

For each language of the revision and each viewport (desktop 1280x800, phone 390x844): a
minimal page (`page.set_content`) runs the built snippet rendered with the revision's
configuration (regime opt_in, texts embedded), the first layer is captured, then
"Customize" is clicked and the preferences dialog is captured. The page makes no request to
any server: it is served from memory at PAGE_URL (a `.invalid` name, which never resolves),
with the files the snippet fetches (`assets`: the UI chunk of the preferences dialog) under
it; every other request is aborted, and decisions go nowhere. No Flask, no database:
`services/screenshots.py` stores what this returns.
"""

import hashlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

from cmp_server.scanner.browse import CHROMIUM_ARGS, ScanError, in_own_thread

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
LAYERS = ("banner", "preferences")
BANNER = '[data-accord="banner"]'
PREFERENCES = '[data-accord="preferences"]'
CUSTOMIZE = '[data-accord="banner"] [data-accord-action="customize"]'
TIMEOUT_MS = 10_000
PAGE_URL = "https://screenshots.accord.invalid/"
PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<script>{script}</script></head>
<body style="margin:0;font-family:sans-serif;background:#f4f4f5">
<main style="padding:24px"><h1 style="color:#52525b">{title}</h1></main></body></html>"""


@dataclass(frozen=True)
class Shot:
    language: str
    viewport: str
    layer: str
    width: int
    height: int
    png: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()


def page_html(script: str, lang: str, title: str) -> str:
    # The snippet is inline: close a stray "</script" in it as the server does for JSON.
    safe = script.replace("</script", "<\\/script")
    return PAGE.format(lang=escape(lang), title=escape(title), script=safe)


def capture(
    script: str, languages: list[str], title: str, chromium: str, assets: dict[str, bytes]
) -> list[Shot]:
    """Every layer of the snippet `script` in each language and viewport; `assets` are the
    files it may fetch, by path under the page's origin ("/s/ui.<hash>.js"). ScanError when
    Chromium is missing or a layer does not show."""
    return in_own_thread(lambda: _capture(script, languages, title, chromium, assets))


def _capture(
    script: str, languages: list[str], title: str, chromium: str, assets: dict[str, bytes]
) -> list[Shot]:
    if not Path(chromium).exists():
        raise ScanError(f"{chromium} is missing: install Debian's chromium")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    shots = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for lang in languages:
                    for viewport, (width, height) in VIEWPORTS.items():
                        files = {"/": page_html(script, lang, title).encode(), **assets}
                        shots += _capture_one(browser, files, lang, viewport, width, height)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise ScanError(f"Chromium could not draw the banner: {exc.message}") from None
    return shots


def _serve(files: dict[str, bytes]):
    """A route handler: the page and its assets from `files`, every other request aborted."""

    def handle(route):
        url = route.request.url
        path = url[len(PAGE_URL) - 1 :] if url.startswith(PAGE_URL) else None
        if path in files:
            kind = "text/html; charset=utf-8" if path == "/" else "text/javascript"
            route.fulfill(status=200, body=files[path], content_type=kind)
        else:
            route.abort()

    return handle


def _capture_one(browser, files: dict, lang: str, viewport: str, width: int, height: int):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=lang,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        device_scale_factor=1,
        reduced_motion="reduce",
    )
    try:
        context.route("**/*", _serve(files))
        page = context.new_page()
        page.goto(PAGE_URL, wait_until="load")
        page.wait_for_selector(BANNER, state="visible", timeout=TIMEOUT_MS)
        shots = [_shot(page, lang, viewport, "banner", width, height)]
        page.click(CUSTOMIZE, timeout=TIMEOUT_MS)
        page.wait_for_selector(PREFERENCES, state="visible", timeout=TIMEOUT_MS)
        shots.append(_shot(page, lang, viewport, "preferences", width, height))
        return shots
    finally:
        context.close()


def _shot(page, lang: str, viewport: str, layer: str, width: int, height: int) -> Shot:
    page.evaluate("document.fonts ? document.fonts.ready : null")
    png = page.screenshot(type="png", animations="disabled", caret="hide")
    return Shot(lang, viewport, layer, width, height, png)
