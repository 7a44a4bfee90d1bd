"""Issue 14, point 1: the first layer and the preferences dialog as a visitor sees them on a
desktop and on a phone (390 px): switches with names and states, a compact bar on desktop, a
bottom sheet the width of a phone, the end of the page reachable above the banner, the
optional floating "privacy settings" button, and axe-core finding nothing at either size.
The screenshots the README shows (docs/screenshots/) are rewritten with
ACCORD_UPDATE_SCREENSHOTS=1; otherwise they go to test-artifacts/ like every other."""

import os
from pathlib import Path

import pytest

from tests.fixtures.browser import WCAG_21_AA, run_axe, screenshot
from tests.snippet.conftest import TRACKERS_HTML, after_first_frame, wait_for, wait_for_consents

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
PREFS = '[data-accord="preferences"]'
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
WCAG_22_AA = [*WCAG_21_AA, "wcag22aa"]  # adds target size (2.5.8)

# A page long enough to scroll, ending with a link the banner must not hide.
LONG_PAGE = (
    TRACKERS_HTML
    + "".join(f"<p>Paragraph {i} of the shop's page.</p>" for i in range(40))
    + '<footer><a id="last" href="#">Legal notice</a></footer>'
)


def shoot(page, name, full_page=False):
    """A screenshot for the README (with ACCORD_UPDATE_SCREENSHOTS=1), else for test-artifacts."""
    if os.environ.get("ACCORD_UPDATE_SCREENSHOTS") != "1":
        screenshot(page, name)
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def long_page_with_banner(shop, make_live_site, size):
    """A long page of a new site at one of SIZES, once its banner is there."""
    shop.page.set_viewport_size(SIZES[size])
    page = shop.open(make_live_site(), LONG_PAGE)
    page.locator(BANNER).wait_for()
    return page


@pytest.mark.parametrize("size", SIZES)
def test_axe_finds_nothing_on_either_layer(shop, make_live_site, size):
    page = long_page_with_banner(shop, make_live_site, size)
    # Focus moves in with the banner's first frame.
    wait_for(page, "() => !!document.activeElement.closest('[data-accord=banner]')")
    assert run_axe(page, tags=WCAG_22_AA) == []
    shoot(page, f"banner-{size}")
    page.locator(f'{BANNER} [data-accord-action="customize"]').click()
    page.locator(PREFS).locator("summary").first.click()
    assert run_axe(page, tags=WCAG_22_AA) == []
    shoot(page, f"preferences-{size}")


def test_switches_have_names_and_states_and_nothing_is_pre_ticked(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    page.evaluate("() => Accord.show('preferences')")
    prefs = page.locator(PREFS)
    necessary = prefs.get_by_role("switch", name="Strictly necessary")
    analytics = prefs.get_by_role("switch", name="Audience measurement")
    marketing = prefs.get_by_role("switch", name="Advertising")
    assert necessary.is_checked() and necessary.is_disabled()
    assert not analytics.is_checked() and not marketing.is_checked()
    analytics.click()
    assert analytics.is_checked()
    # A target at least 24 px by 24 px (WCAG 2.2, 2.5.8), and a visible change of state.
    box = analytics.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    look = "el => getComputedStyle(el).backgroundColor"
    assert analytics.evaluate(look) != marketing.evaluate(look)
    # Each purpose reads as title, description, then its trackers.
    first = prefs.locator("section").nth(1)
    assert first.locator("h3").inner_text() == "Audience measurement"
    assert first.locator("summary").inner_text() == "Trackers (2)"


def test_desktop_bar_is_compact_with_the_buttons_beside_the_text(shop, make_live_site):
    key = make_live_site()
    shop.page.set_viewport_size(DESKTOP)
    page = shop.open(key)
    banner = page.locator(BANNER)
    text = banner.locator("#acc-d").bounding_box()
    accept = banner.locator('[data-accord-action="accept_all"]').bounding_box()
    customize = banner.locator('[data-accord-action="customize"]').bounding_box()
    assert accept["x"] > text["x"] + text["width"]  # beside the text, not under it
    assert accept["y"] == pytest.approx(customize["y"], abs=1)  # one row of buttons
    assert banner.bounding_box()["height"] < DESKTOP["height"] / 4


def test_phone_banner_is_a_bottom_sheet_the_width_of_the_screen(shop, make_live_site):
    key = make_live_site(look={"position": "center"})
    shop.page.set_viewport_size(PHONE)
    page = shop.open(key)
    box = page.locator(BANNER).bounding_box()
    assert box["x"] == 0 and box["width"] == PHONE["width"]
    assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1)
    # Accept and refuse side by side, the same size; buttons aligned with the text.
    accept = page.locator(f'{BANNER} [data-accord-action="accept_all"]').bounding_box()
    refuse = page.locator(f'{BANNER} [data-accord-action="reject_all"]').bounding_box()
    title = page.locator(f"{BANNER} h2").bounding_box()
    assert accept["width"] == pytest.approx(refuse["width"], abs=0.5)
    assert accept["y"] == pytest.approx(refuse["y"], abs=1)
    assert accept["x"] == pytest.approx(title["x"], abs=1)
    page.locator(f'{BANNER} [data-accord-action="customize"]').click()
    sheet = page.locator(PREFS).bounding_box()
    assert sheet["width"] == PHONE["width"]
    assert sheet["y"] + sheet["height"] == pytest.approx(PHONE["height"], abs=1)


# The room below the page is made once the banner's size is known (a ResizeObserver).
ROOM_MADE = "() => document.documentElement.style.paddingBottom != ''"


def scroll_to_the_end(page):
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    wait_for(
        page, "() => Math.ceil(scrollY + innerHeight) >= document.documentElement.scrollHeight"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_end_of_the_page_can_be_read_above_the_banner(shop, make_live_site, size):
    page = long_page_with_banner(shop, make_live_site, size)
    wait_for(page, ROOM_MADE)
    scroll_to_the_end(page)
    last = page.locator("#last").bounding_box()
    banner = page.locator(BANNER).bounding_box()
    assert last["y"] + last["height"] <= banner["y"]
    # Focus not obscured (WCAG 2.2, 2.4.11): a focused link scrolls into view above it.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.focus("#last")
    last = page.locator("#last").bounding_box()
    assert last["y"] + last["height"] <= banner["y"]
    # Once the banner is gone, so is the room made for it.
    page.locator(f'{BANNER} [data-accord-action="reject_all"]').click()
    assert page.evaluate("() => document.documentElement.style.paddingBottom") == ""


def test_floating_button_opens_the_preferences_once_decided(shop, make_live_site, live_server):
    key = make_live_site(floating_button=True)
    page = shop.open(key)
    settings = page.get_by_role("button", name="Privacy settings")
    assert settings.count() == 0  # not beside the banner
    page.locator(f'{BANNER} [data-accord-action="accept_all"]').click()
    settings.wait_for()
    shop.page.set_viewport_size(PHONE)
    shoot(page, "floating-button-phone")
    # On every page after the decision, one click away.
    page = shop.open(key)
    settings.wait_for()
    box = settings.bounding_box()
    assert box["height"] >= 24 and box["width"] >= 24
    settings.click()
    page.locator(PREFS).wait_for()
    assert settings.count() == 0  # the dialog covers the page; the button comes back after
    page.locator(f'{PREFS} [data-accord-action="withdraw"]').click()
    settings.wait_for()
    assert [r["action"] for r in wait_for_consents(live_server, key, 2, page=page)] == [
        "accept_all",
        "withdraw",
    ]


def test_no_floating_button_unless_the_site_asks_for_it(shop, make_live_site):
    key = make_live_site()
    page = shop.open(key)
    page.evaluate("() => Accord.acceptAll()")
    page = shop.open(key)
    assert page.evaluate("() => Accord.getConsent().action") == "accept_all"
    after_first_frame(page)  # with the site's option, the button shows as the page loads
    assert page.get_by_role("button", name="Privacy settings").count() == 0


# Layout shifts, summed as CLS counts them (shifts right after an input do not count).
# `clsAfterFrames()` resolves in the second frame from now, once the first has been painted,
# with every shift up to then: those its callback has not been handed yet taken from it.
CLS = """
window.cls = 0;
const addShifts = (entries) => {
  for (const e of entries) if (!e.hadRecentInput) window.cls += e.value;
};
const shifts = new PerformanceObserver((list) => addShifts(list.getEntries()));
shifts.observe({type: 'layout-shift', buffered: true});
window.clsAfterFrames = () => new Promise((done) => requestAnimationFrame(() =>
  requestAnimationFrame(() => { addShifts(shifts.takeRecords()); done(window.cls); })));
"""


def cls_after_frames(page) -> float:
    return page.evaluate("() => clsAfterFrames()")


@pytest.mark.parametrize("size", SIZES)
def test_showing_and_closing_the_banner_shifts_no_layout(shop, make_live_site, size):
    """The room left below the page for a bottom banner moves nothing on screen."""
    key = make_live_site()
    shop.page.set_viewport_size(SIZES[size])
    shop.page.add_init_script(CLS)
    page = shop.open(key, LONG_PAGE.replace(TRACKERS_HTML, ""))
    page.locator(BANNER).wait_for()
    wait_for(page, ROOM_MADE)
    assert cls_after_frames(page) == 0
    scroll_to_the_end(page)
    page.evaluate("() => Accord.rejectAll()")  # by script: no recent input to excuse a shift
    assert page.evaluate("() => document.documentElement.style.paddingBottom") == ""
    assert cls_after_frames(page) == 0


def test_a_blocked_iframes_placeholder_shifts_no_layout(shop, make_live_site):
    """The placeholder takes the iframe's place before the first paint, with its text."""
    key = make_live_site()
    shop.page.add_init_script(CLS)
    page = shop.open(key, TRACKERS_HTML)
    page.locator(BANNER).wait_for()
    after_first_frame(page)
    assert cls_after_frames(page) == 0
