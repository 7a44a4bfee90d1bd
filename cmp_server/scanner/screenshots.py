"""Draw a published revision with the real snippet in headless Chromium and keep the PNGs.

For each language of the revision and each viewport (desktop 1280x800, phone 390x844): a
minimal page (`page.set_content`) runs the built snippet rendered with the revision's
configuration (regime opt_in, texts embedded), the first layer is captured, then
"Customize" is clicked and the preferences dialog is captured. The page makes no request:
every one is aborted, and decisions go nowhere. No Flask, no database: `services/screenshots.py`
stores what this returns.
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


def capture(script: str, languages: list[str], title: str, chromium: str) -> list[Shot]:
    """Every layer of the snippet `script` in each language and viewport; ScanError when
    Chromium is missing or the banner does not show."""
    return in_own_thread(lambda: _capture(script, languages, title, chromium))


def _capture(script: str, languages: list[str], title: str, chromium: str) -> list[Shot]:
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
                        shots += _capture_one(
                            browser, page_html(script, lang, title), lang, viewport, width, height
                        )
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise ScanError(f"Chromium could not draw the banner: {exc.message}") from None
    return shots


def _capture_one(browser, html: str, lang: str, viewport: str, width: int, height: int):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=lang,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        device_scale_factor=1,
        reduced_motion="reduce",
    )
    try:
        context.route("**/*", lambda route: route.abort())
        page = context.new_page()
        page.set_content(html, wait_until="load")
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
