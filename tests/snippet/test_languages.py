"""Issue 14, item 2: the banner in the 24 EU languages, as a visitor meets it in Chromium.

A site offering German, Polish and Greek shows each from the page's <html lang>, with `lang`
on the banner's root and axe-core finding nothing on either layer in any of them; a tracker's
purpose is shown in the visitor's language; the bundle carries no built-in text (the texts
reach the page inside the site's configuration, for its languages only)."""

import pytest

from cmp_server.services.snippet import STATIC, install_html
from cmp_server.services.texts import BUILT_IN_LANGUAGES, built_in_texts
from tests.fixtures.browser import run_axe, screenshot
from tests.snippet.conftest import demo_config, wait_for

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'

LABELS = {
    "de": ("Statistik", "Zählt Besuche, um die Website zu verbessern.", "Zählt Besuche"),
    "pl": ("Statystyka", "Liczy odwiedziny, aby ulepszać serwis.", "Liczy odwiedziny"),
    "el": ("Στατιστικά", "Μετρά τις επισκέψεις για τη βελτίωση του ιστότοπου.", "Μετρά επισκέψεις"),
}


def three_language_site() -> dict:
    """The demo site speaking German, Polish and Greek (German by default)."""
    config = demo_config(languages=["de", "pl", "el"], default_language="de")
    for category in config["categories"]:
        english = category["labels"]["en"]
        category["labels"] = {lang: dict(english) for lang in LABELS}
        for tracker in category["trackers"]:
            tracker["purpose"] = dict.fromkeys(LABELS, tracker["purpose"]["en"])
            tracker["duration"] = {"de": "13 Monate", "pl": "13 miesięcy", "el": "13 μήνες"}
    analytics = config["categories"][1]
    for lang, (title, description, purpose) in LABELS.items():
        analytics["labels"][lang] = {"title": title, "description": description}
        analytics["trackers"][0]["purpose"][lang] = purpose
    return config


def open_preferences(page):
    page.locator(f'{BANNER} [data-accord-action="customize"]').click()
    prefs = page.locator(PREFS)
    prefs.wait_for()
    for summary in prefs.locator("summary").all():
        summary.click()
    return prefs


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["de", "pl", "el"])
def test_each_language_of_the_site_from_html_lang_with_no_axe_violation(shop, make_live_site, lang):
    texts = built_in_texts(lang)
    key = make_live_site(**three_language_site())
    page = shop.open(key, lang=lang)
    banner = page.locator(BANNER)
    banner.wait_for()
    assert banner.get_attribute("lang") == lang
    assert banner.locator("h2").inner_text() == texts["title"]
    for action in ("accept_all", "reject_all", "customize"):
        button = banner.locator(f'[data-accord-action="{action}"]')
        assert button.inner_text() == texts[action]
    assert run_axe(page) == []
    screenshot(page, f"banner-first-layer-{lang}")

    prefs = open_preferences(page)
    # The dialog's root element (its overlay) carries the language.
    assert prefs.evaluate("el => el.closest('[lang]').lang") == lang
    title, _, purpose = LABELS[lang]
    assert prefs.get_by_label(title).is_visible()
    text = prefs.inner_text()
    assert texts["preferences_title"] in text
    assert f"{texts['purpose']}: {purpose}" in text
    assert texts["kind_cookie"] in text and texts["kind_fingerprinting"] in text
    assert run_axe(page) == []
    screenshot(page, f"banner-preferences-{lang}")


@pytest.mark.browser
def test_the_french_banner_shows_tracker_purposes_in_french(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key, lang="fr")
    text = open_preferences(page).inner_text()
    assert "Finalité: Compte les conversions publicitaires" in text
    assert "Durée: 13 mois" in text
    assert "Counts ad conversions" not in text and "13 months" not in text


@pytest.mark.browser
def test_a_purpose_not_yet_translated_falls_back_to_the_default_language(shop, make_live_site):
    config = demo_config()
    del config["categories"][2]["trackers"][0]["purpose"]["fr"]
    key = make_live_site(**config)
    text = open_preferences(shop.open(key, lang="fr")).inner_text()
    assert "Finalité: Counts ad conversions" in text


def test_the_bundle_carries_no_built_in_text():
    """Texts come with the site's configuration (its languages only), never in the code that
    every page of every site downloads."""
    bundles = {path.name: path.read_text(encoding="utf-8") for path in STATIC.glob("accord*.js")}
    assert "accord.js" in bundles
    for lang in BUILT_IN_LANGUAGES:
        texts = built_in_texts(lang)
        for key in ("title", "accept_all", "reject_all", "preferences_title", "gpc_notice"):
            for name, code in bundles.items():
                assert texts[key] not in code, f"{lang}.{key} is in {name}"


@pytest.mark.browser
def test_the_core_snippet_fetches_only_the_language_the_page_speaks(shop, make_live_site):
    """The core snippet (what the recommended integration loads once a visitor has decided)
    carries no text: its UI asks for the page's one language when it must show."""
    key = make_live_site(**three_language_site())
    asked = []
    shop.page.on("request", lambda r: "/texts." in r.url and asked.append(r.url))
    core = f'<script src="{shop.server.url}/s/{key}.core.js"></script>'
    shop.pages["/"] = (
        '<!doctype html><html lang="el"><head><meta charset="utf-8"><title>Shop</title>'
        f"{core}</head><body><main><h1>Shop</h1></main></body></html>"
    )
    page = shop.page
    page.goto("https://www.shop.example/")
    wait_for(page, "() => !!window.Accord")
    banner = page.locator(BANNER)
    banner.wait_for()
    assert banner.locator("h2").inner_text() == built_in_texts("el")["title"]
    assert banner.get_attribute("lang") == "el"
    prefs = open_preferences(page)
    assert f"{built_in_texts('el')['purpose']}: {LABELS['el'][2]}" in prefs.inner_text()
    assert [url.rsplit("/", 1)[1] for url in asked] == ["texts.1.el.json"]
    assert run_axe(page) == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("html_lang", "browser", "lang"),
    [("el", "de-DE", "el"), ("", "pl-PL", "pl"), ("fr", "en-US", "de")],
)
def test_the_stub_gets_the_full_snippet_in_the_visitors_one_language(
    shop, make_live_site, html_lang, browser, lang
):
    """The recommended integration's full snippet (a first visit) carries the first layer's
    texts in the language the server picked from the stub's `lang` (<html lang>, then the
    browser's; else the site's default): the banner shows it with no texts file fetched; the
    preferences fetch that one language's file with their code; the other languages are
    never downloaded."""
    key = make_live_site(**three_language_site())
    shop.page.add_init_script(
        f"Object.defineProperty(navigator, 'languages', {{get: () => ['{browser}']}})"
    )
    snippets = []
    shop.page.on("response", lambda r: f"/s/{key}.js" in r.url and snippets.append(r))
    asked = []
    shop.page.on("request", lambda r: "/texts." in r.url and asked.append(r.url))
    shop.pages["/"] = (
        f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8"><title>Shop</title>'
        f"{install_html(shop.server.url, key)}</head><body><main><h1>Shop</h1></main></body></html>"
    )
    page = shop.page
    page.goto("https://www.shop.example/")
    banner = page.locator(BANNER)
    banner.wait_for()
    assert banner.locator("h2").inner_text() == built_in_texts(lang)["title"]
    assert banner.get_attribute("lang") == lang
    snippet = snippets[0]  # the stub's preload (the script then runs from it)
    assert snippet.url.endswith(f".js?lang={html_lang},{browser}")
    body = snippet.text()
    for other in set(LABELS) - {lang}:
        assert built_in_texts(other)["title"] not in body
    assert asked == []
    prefs = open_preferences(page)
    assert f"{built_in_texts(lang)['purpose']}: {LABELS[lang][2]}" in prefs.inner_text()
    assert [url.rsplit("/", 1)[1] for url in asked] == [f"texts.1.{lang}.json"]
