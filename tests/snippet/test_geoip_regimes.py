"""Issue 3, point 15, as deployed behind a proxy: the visitor's country comes from GeoIP
(MaxMind's test database) of the address in `X-Forwarded-For` (ACCORD_PROXY_COUNT=1), the
snippet carries the regime for that country, and the banner behaves accordingly."""

import json
import re
import urllib.request

import pytest

from tests.snippet.conftest import (
    Shop,
    demo_config,
    shop_origins,
    stored_consents,
    wait_for_consents,
)

pytestmark = pytest.mark.browser

BANNER = '[data-accord="banner"]'
REGIMES = {"default": "notice", "EEA": "opt_in", "GB": "opt_in", "US": "opt_out"}
# MaxMind's test addresses: GB, US, SE (in the EEA), CN (not named: the default), and an
# address GeoIP does not know (the strictest regime, whatever the default).
VISITORS = [
    ("81.2.69.160", "opt_in"),
    ("216.160.83.56", "opt_out"),
    ("89.160.20.112", "opt_in"),
    ("175.16.199.0", "notice"),
    ("127.0.0.1", "opt_in"),
]
# The first layer's buttons per regime: (action, text).
BUTTONS = {
    "opt_in": [("accept_all", "Accept all"), ("reject_all", "Refuse all"), ("customize", None)],
    "opt_out": [
        ("accept_all", "Accept all"),
        ("reject_all", "Do not sell or share my personal information"),
        ("customize", None),
    ],
    "notice": [("accept_all", "OK"), ("customize", None)],
}


@pytest.fixture(autouse=True)
def own_caches():
    """Both live servers run in this process and share its per-process caches, which are
    keyed by site id: the two databases' ids collide, so start and end with empty caches."""
    from cmp_server.services import lookup

    lookup.forget_site()
    yield
    lookup.forget_site()


@pytest.fixture(scope="module")
def geo_site(geoip_live_server):
    from cmp_server.extensions import db
    from cmp_server.services import revisions, sites

    with geoip_live_server.app_context():
        site = sites.import_site(demo_config(regimes=REGIMES))
        revisions.publish_revision(site)
        db.session.commit()
        key = site.site_key
        db.session.remove()
    return key


@pytest.fixture
def visitor(warm_contexts, geoip_live_server):
    """visitor(address) -> a Shop whose requests carry `X-Forwarded-For: address`."""
    pages = []

    def make(address):
        page = warm_contexts.page(shop_origins(geoip_live_server))
        pages.append(page)
        page.set_extra_http_headers({"X-Forwarded-For": address})
        return Shop(page, geoip_live_server)

    yield make
    for page in pages:
        warm_contexts.give_back(page)


def snippet_regime(server, key, address) -> tuple[str, str]:
    """The regime embedded in the snippet served to `address`, and its Cache-Control."""
    request = urllib.request.Request(
        f"{server.url}/s/{key}.js", headers={"X-Forwarded-For": address}
    )
    with urllib.request.urlopen(request) as response:
        body = response.read().decode()
        cache_control = response.headers["Cache-Control"]
    return json.loads(re.search(r'"regime":("[a-z_]+")', body).group(1)), cache_control


@pytest.mark.parametrize(("address", "regime"), VISITORS)
def test_the_snippet_carries_the_regime_of_the_forwarded_address(
    geoip_live_server, geo_site, address, regime
):
    served, cache_control = snippet_regime(geoip_live_server, geo_site, address)
    assert served == regime
    # Visitors get different bodies and no trusted country header names the difference:
    # no shared cache may keep it.
    assert cache_control.startswith("private")


@pytest.mark.parametrize(("address", "regime"), VISITORS)
def test_the_banner_follows_the_regime(visitor, geoip_live_server, geo_site, address, regime):
    shop = visitor(address)
    page = shop.open(geo_site)
    banner = page.locator(BANNER)
    banner.wait_for()
    buttons = banner.locator(".acc-btns [data-accord-action]")
    assert [b.get_attribute("data-accord-action") for b in buttons.all()] == [
        a for a, _ in BUTTONS[regime]
    ]
    for action, text in BUTTONS[regime]:
        if text:
            assert banner.locator(f'[data-accord-action="{action}"]').inner_text() == text
    # Before any decision: only opt_in keeps the optional categories off.
    choices = page.evaluate("() => window.dataLayer[1]?.[2]?.analytics_storage")
    assert choices == (None if regime == "opt_in" else "granted")


def test_a_decision_records_the_regime_of_the_forwarded_address(
    visitor, geoip_live_server, geo_site
):
    before = len(stored_consents(geoip_live_server, geo_site))
    shop = visitor("216.160.83.56")
    page = shop.open(geo_site)
    page.click(f'{BANNER} [data-accord-action="reject_all"]')  # "Do not sell or share"
    records = wait_for_consents(geoip_live_server, geo_site, before + 1, page=page)
    assert records[-1]["regime"] == "opt_out"
    assert records[-1]["action"] == "reject_all"
