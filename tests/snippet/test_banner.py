"""Issue 3, points 2, 3, 10, 11, 12 and 14: the first layer, the preferences, the JS API
and events, languages, accessibility (axe-core) and staff text shown as text."""

import json

import pytest

from tests.fixtures.browser import run_axe, screenshot
from tests.snippet.conftest import TRACKERS_HTML, wait_for, wait_for_consents

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'


def action(page, name, within=BANNER):
    return page.locator(f'{within} [data-accord-action="{name}"]')


def test_first_layer_offers_accept_refuse_customize_and_the_policy(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    banner = page.locator(BANNER)
    banner.wait_for()
    assert banner.get_attribute("role") == "dialog"
    assert page.get_by_role("dialog", name="We value your privacy").is_visible()
    assert banner.get_by_role("link", name="Privacy policy").get_attribute("href") == (
        "https://demo.accord.invalid/privacy"
    )
    for name, text in [
        ("accept_all", "Accept all"),
        ("reject_all", "Refuse all"),
        ("customize", "Customize"),
    ]:
        assert action(page, name).inner_text() == text
    # Accept and refuse: same size, same weight, same contrast.
    accept, refuse = action(page, "accept_all"), action(page, "reject_all")
    a, r = accept.bounding_box(), refuse.bounding_box()
    assert a["width"] == pytest.approx(r["width"], abs=0.5)  # layout rounds to 1/64 px
    assert a["height"] == pytest.approx(r["height"], abs=0.5)
    style = (
        "(el) => { const s = getComputedStyle(el);"
        " return [s.fontWeight, s.fontSize, s.color, s.backgroundColor]; }"
    )
    assert accept.evaluate(style) == refuse.evaluate(style)
    # Fixed, so showing it shifts nothing; light DOM, so the page and tests can reach it.
    assert banner.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert banner.evaluate("el => el.getRootNode() === document")
    screenshot(page, "banner-first-layer")


# Closing the first layer (recorded as `close`): tests/snippet/test_closing_and_withdrawal.py.


def test_preferences_list_categories_and_trackers_by_kind(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    action(page, "customize").click()
    prefs = page.locator(PREFS)
    prefs.wait_for()
    assert prefs.get_attribute("aria-modal") == "true"
    assert page.get_by_role("dialog", name="Your privacy choices").is_visible()
    necessary = prefs.get_by_label("Strictly necessary")
    assert necessary.is_checked() and necessary.is_disabled()
    assert "Always on" in prefs.inner_text()
    # Nothing pre-ticked.
    for label in ("Audience measurement", "Advertising"):
        box = prefs.get_by_label(label)
        assert not box.is_checked() and box.is_enabled()
    for summary in prefs.locator("summary").all():
        summary.click()
    text = prefs.inner_text()
    for expected in (
        "Cookies",
        "Browser storage",
        "Web beacons",
        "Device fingerprinting",
        "Provider: Demo Ads",
        "Purpose: Counts ad conversions",
        "Duration: 13 months",
        "Visit counter",
    ):
        assert expected in text
    screenshot(page, "banner-preferences")


def test_saving_custom_choices(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    action(page, "customize").click()
    page.locator(PREFS).get_by_label("Audience measurement").check()
    action(page, "save", PREFS).click()
    assert page.locator(PREFS).count() == 0
    wait_for(page, "() => (window.ran || []).length == 2")
    (record,) = wait_for_consents(live_server, key, 1, page=page)
    assert record["action"] == "custom"
    assert record["choices"] == {"necessary": True, "analytics": True, "marketing": False}


def test_data_accord_open_reopens_preferences_with_the_current_choices(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.evaluate("() => Accord.update({marketing: true})")
    page.click("[data-accord-open]")
    prefs = page.locator(PREFS)
    assert prefs.get_by_label("Advertising").is_checked()
    assert not prefs.get_by_label("Audience measurement").is_checked()
    consent_id = page.evaluate("() => Accord.getConsent().consent_id")
    assert f"Your consent ID: {consent_id}" in prefs.inner_text()
    # Once decided, closing the preferences changes nothing and focus returns to the link.
    page.keyboard.press("Escape")
    assert prefs.count() == 0
    assert page.evaluate("() => Accord.getConsent().consent_id") == consent_id
    assert page.evaluate("() => document.activeElement.hasAttribute('data-accord-open')")


def test_js_api_and_events(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    assert page.evaluate("() => Accord.getConsent()") is None
    page.evaluate(
        """() => {
            window.seen = [];
            document.addEventListener('accord:consent', e => seen.push(['dom', e.detail.action]));
            Accord.on('consent', d => seen.push(['api', d.action]));
        }"""
    )
    decision = page.evaluate("() => Accord.acceptAll()")
    assert decision["action"] == "accept_all"
    assert set(decision) == {
        "consent_id",
        "device_id",
        "revision",
        "action",
        "choices",
        "decided_at",
    }
    assert decision["choices"] == {"necessary": True, "analytics": True, "marketing": True}
    page.evaluate("() => Accord.update({marketing: false})")
    page.evaluate("() => Accord.rejectAll()")
    assert page.evaluate("() => seen") == [
        ["dom", "accept_all"],
        ["api", "accept_all"],
        ["dom", "custom"],
        ["api", "custom"],
        ["dom", "reject_all"],
        ["api", "reject_all"],
    ]
    # on('consent') called once a decision holds fires at once.
    assert page.evaluate(
        "() => { let got; Accord.on('consent', d => got = d.action); return got; }"
    ) == ("reject_all")
    page.evaluate("() => Accord.show()")
    assert page.locator(BANNER).is_visible()
    page.evaluate("() => Accord.show('preferences')")
    assert page.locator(PREFS).is_visible() and page.locator(BANNER).count() == 0
    # The device keeps its id across decisions.
    devices = page.evaluate("() => [Accord.getConsent().device_id, Accord.acceptAll().device_id]")
    assert devices[0] == devices[1] == decision["device_id"]


# Each look colour distinct, to see that each lands where it belongs.
COLORS = {
    "background": "#fefce8",
    "text": "#111827",
    "accept_background": "#14532d",
    "accept_text": "#f0fdf4",
    "reject_background": "#7f1d1d",
    "reject_text": "#fef2f2",
    "link": "#1e3a8a",
}


def rgb(hex_color):
    return "rgb({}, {}, {})".format(*(int(hex_color[i : i + 2], 16) for i in (1, 3, 5)))


@pytest.mark.parametrize("position", ["bottom", "top", "center", "bottom-left", "bottom-right"])
def test_the_sites_look_places_and_colours_the_banner(shop, make_live_site, position):
    key = make_live_site(look={"position": position, "colors": COLORS})
    page = shop.open(key)
    banner = page.locator(BANNER)
    banner.wait_for()
    styles = (
        "el => { const s = getComputedStyle(el);"
        " return [s.backgroundColor, s.color, s.borderTopColor]; }"
    )
    assert banner.evaluate(styles)[:2] == [rgb(COLORS["background"]), rgb(COLORS["text"])]
    assert action(page, "accept_all").evaluate(styles) == [
        rgb(COLORS["accept_background"]),
        rgb(COLORS["accept_text"]),
        rgb(COLORS["accept_background"]),
    ]
    assert action(page, "reject_all").evaluate(styles) == [
        rgb(COLORS["reject_background"]),
        rgb(COLORS["reject_text"]),
        rgb(COLORS["reject_background"]),
    ]
    assert action(page, "customize").evaluate(styles) == [
        rgb(COLORS["background"]),
        rgb(COLORS["link"]),
        rgb(COLORS["link"]),
    ]
    assert banner.get_by_role("link").evaluate(styles)[1] == rgb(COLORS["link"])
    box = banner.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    left, right = box["x"], width - box["x"] - box["width"]
    top, bottom = box["y"], height - box["y"] - box["height"]
    near = {"abs": 1}
    if position in ("bottom", "top"):  # the whole width, against one edge
        assert (left, right) == pytest.approx((0, 0), **near)
        assert (bottom if position == "bottom" else top) == pytest.approx(0, **near)
    elif position == "center":
        assert (left, top) == pytest.approx((right, bottom), **near)
        assert left > 16 and top > 16
    else:  # a box 16 px from the corner
        assert bottom == pytest.approx(16, **near)
        assert (left if position == "bottom-left" else right) == pytest.approx(16, **near)
        assert box["width"] < width / 2
    screenshot(page, f"banner-{position}")


@pytest.mark.parametrize(
    ("html_lang", "locale", "title"),
    [
        ("fr", "en-US", "Nous respectons votre vie privée"),
        ("fr-CA", "en-US", "Nous respectons votre vie privée"),
        ("", "fr-FR", "Nous respectons votre vie privée"),
        ("de", "fr-FR", "Nous respectons votre vie privée"),
        ("en", "fr-FR", "We value your privacy"),
        ("de", "de-DE", "We value your privacy"),
    ],
)
def test_language_from_html_lang_then_browser_then_default(
    warm_contexts, live_server, make_live_site, html_lang, locale, title
):
    from tests.snippet.conftest import Shop, shop_origins

    page = warm_contexts.page(shop_origins(live_server), locale=locale)
    try:
        shop = Shop(page, live_server)
        key = make_live_site()
        page = shop.open(key, lang=html_lang)
        banner = page.locator(BANNER)
        assert banner.locator("h2").inner_text() == title
        if title.startswith("Nous"):
            assert action(page, "accept_all").inner_text() == "Tout accepter"
            assert action(page, "reject_all").inner_text() == "Tout refuser"
            assert banner.get_attribute("lang") == "fr"
    finally:
        warm_contexts.give_back(page)


def test_french_decision_records_the_language(shop, make_live_site, live_server):
    key = make_live_site()
    page = shop.open(key, lang="fr")
    action(page, "customize").click()
    page.locator(PREFS).wait_for()  # its code is fetched on intent (the UI chunk)
    assert page.locator(PREFS).get_by_label("Mesure d'audience").is_visible()
    action(page, "accept_all", PREFS).click()
    (record,) = wait_for_consents(live_server, key, 1, page=page)
    assert record["language"] == "fr"


def test_keyboard_focus_moves_into_banner_and_is_trapped_in_preferences(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    inside = "sel => !!document.activeElement.closest(sel)"
    # On page load, focus moves in with the frame that paints the banner.
    wait_for(page, inside, arg=BANNER)
    # Keyboard only: Tab to "Customize" and press Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.accordAction") == "customize":
            break
    page.keyboard.press("Enter")
    page.locator(PREFS).wait_for()
    assert page.evaluate(inside, PREFS)
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate(inside, PREFS)
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside, PREFS)
    # A visible focus indicator on the focused control.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Escape")  # no decision yet: closing is recorded as `close`
    assert page.evaluate("() => Accord.getConsent().action") == "close"


def test_axe_finds_nothing_with_banner_and_with_preferences_open(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    assert run_axe(page) == []
    action(page, "customize").click()
    for summary in page.locator(f"{PREFS} summary").all():
        summary.click()
    assert run_axe(page) == []
    page.evaluate("() => Accord.acceptAll()")
    page.click("[data-accord-open]")
    assert run_axe(page) == []  # with consent ID, download and withdraw


XSS = '<img src=x onerror="window.pwned=1">'


def test_staff_text_is_shown_as_text(shop, make_live_site):
    from tests.snippet.conftest import demo_config

    config = demo_config()
    config["texts"] = {"en": {"title": XSS, "description": XSS + " <b>bold</b>", "accept_all": XSS}}
    config["categories"][1]["labels"]["en"]["title"] = XSS
    config["categories"][1]["trackers"][0]["name"] = XSS
    config["categories"][1]["trackers"][0]["purpose"] = XSS
    key = make_live_site(**{k: config[k] for k in ("texts", "categories")})
    page = shop.open(key)
    banner = page.locator(BANNER)
    assert banner.locator("h2").inner_text() == XSS
    assert action(page, "accept_all").inner_text() == XSS
    action(page, "customize").click()
    page.locator(f"{PREFS} summary").first.click()
    prefs_text = page.locator(PREFS).inner_text()
    assert XSS in prefs_text
    # An <img src=x> made from a text, even one never shown, would have had its error by
    # the time another <img src=x> made now has had its own.
    page.evaluate(
        "() => new Promise(done => Object.assign(new Image(), {onerror: done, src: 'x'}))"
    )
    assert page.locator("[data-accord] img, [data-accord] b").count() == 0
    assert page.evaluate("() => window.pwned") is None


def test_download_my_history(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    decision = page.evaluate("() => Accord.acceptAll()")
    wait_for(page, "() => !!localStorage.getItem('accord_receipts')")
    page.evaluate("() => Accord.show('preferences')")
    with page.expect_download() as info:
        page.locator(PREFS).get_by_role("button", name="Download my consent history").click()
    with open(info.value.path()) as f:
        history = json.load(f)
    assert history["device_id"] == decision["device_id"]
    assert [c["consent_id"] for c in history["consents"]] == [decision["consent_id"]]
    assert history["receipts"][decision["consent_id"]]["consent_id"] == decision["consent_id"]
