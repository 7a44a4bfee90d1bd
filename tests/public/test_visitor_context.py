"""Country, regime and minimisation from a request, with and without a GeoIP database."""

import pytest
from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import ConsentRecord
from cmp_server.visitor import describe_user_agent, truncate_ip
from tests.conftest import GEOIP_COUNTRY_DB
from tests.fixtures.factories import consent_body


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::7", "2001:db8:abcd::/48"),
        ("::ffff:81.2.69.160", "81.2.69.0/24"),
        ("not-an-ip", None),
        (None, None),
    ],
)
def test_truncate_ip(ip, network):
    assert truncate_ip(ip) == network


def test_user_agent_families():
    assert describe_user_agent("").device_type == "unknown"
    bot = describe_user_agent(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    assert bot.device_type == "bot"
    iphone = describe_user_agent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    assert (iphone.os, iphone.device_type) == ("iOS", "mobile")


class TestWithGeoIP:
    @pytest.fixture
    def app_config(self):
        return {"GEOIP_DB": GEOIP_COUNTRY_DB}

    @pytest.mark.parametrize(
        ("ip", "country", "regime"),
        [
            ("81.2.69.160", "GB", "opt_in"),
            ("216.160.83.56", "US", "opt_out"),
            ("89.160.20.112", "SE", "opt_in"),
            ("2a02:cf40::1", "NO", "opt_in"),
            ("67.43.156.1", "BT", "opt_in"),
            ("127.0.0.1", None, "opt_in"),
        ],
    )
    def test_country_and_regime_come_from_the_ip(self, client, make_site, ip, country, regime):
        site = make_site(
            regimes={
                "default": "notice",
                "EEA": "opt_in",
                "GB": "opt_in",
                "US": "opt_out",
                "BT": "opt_in",
            }
        )
        response = client.post(
            f"/api/v1/sites/{site.site_key}/consents",
            json=consent_body(),
            environ_base={"REMOTE_ADDR": ip},
        )
        assert response.status_code == 201
        record = db.session.scalar(select(ConsentRecord))
        assert record.country == country
        assert record.regime == regime
        config = client.get(
            f"/api/v1/sites/{site.site_key}/config", environ_base={"REMOTE_ADDR": ip}
        ).json
        assert config["regime"] == regime


def test_without_geoip_the_country_is_unknown_and_opt_in_applies(client, make_site):
    site = make_site(regimes={"default": "opt_out"})
    client.post(
        f"/api/v1/sites/{site.site_key}/consents",
        json=consent_body(),
        environ_base={"REMOTE_ADDR": "216.160.83.56"},
    )
    record = db.session.scalar(select(ConsentRecord))
    assert record.country is None
    assert record.regime == "opt_in"


class TestTrustedCountryHeader:
    @pytest.fixture
    def app_config(self):
        return {"ACCORD_COUNTRY_HEADER": "CF-IPCountry"}

    def test_a_trusted_cdn_header_gives_the_country(self, client, make_site):
        site = make_site(regimes={"default": "opt_in", "US": "opt_out"})
        config = client.get(
            f"/api/v1/sites/{site.site_key}/config", headers={"CF-IPCountry": "US"}
        ).json
        assert config["regime"] == "opt_out"
        unknown = client.get(
            f"/api/v1/sites/{site.site_key}/config", headers={"CF-IPCountry": "XX"}
        ).json
        assert unknown["regime"] == "opt_in"


def test_gpc_header_is_recorded(client, make_site):
    site = make_site()
    client.post(
        f"/api/v1/sites/{site.site_key}/consents",
        json=consent_body("gpc"),
        headers={"Sec-GPC": "1"},
    )
    assert db.session.scalar(select(ConsentRecord)).gpc is True
