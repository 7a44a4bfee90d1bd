"""Witness lag in /healthz and in the Prometheus metrics, on SQLite and PostgreSQL.

The cosignatures are stored as `services.witnesses.send` stores what a witness answered; a
real witness is in tests/live/test_live_witness.py."""

import pytest

from cmp_server.extensions import db
from cmp_server.models import WitnessCosignature
from cmp_server.services.seeding import seed_consents

WITNESS = "https://witness.example"
OTHER = "http://127.0.0.1:8800"


@pytest.fixture
def app_config():
    return {"ACCORD_WITNESSES": [WITNESS, OTHER]}


def cosigned(site, url: str, size: int) -> None:
    db.session.add(
        WitnessCosignature(
            site_id=site.id, witness_url=url, size=size, head_hash="a" * 64, cosignature="{}"
        )
    )
    db.session.commit()


@pytest.fixture
def two_sites(make_site):
    """Site a: 5 records, WITNESS cosigned 2 then 3, OTHER nothing. Site b: 4, both cosigned 4."""
    a, b = make_site(), make_site(name="Other shop")
    seed_consents(a.site_key, 5, days=1)
    seed_consents(b.site_key, 4, days=1)
    cosigned(a, WITNESS, 2)
    cosigned(a, WITNESS, 3)
    cosigned(b, WITNESS, 4)
    cosigned(b, OTHER, 4)
    return a, b


def test_healthz_shows_each_witness_worst_lag(client, two_sites):
    a, _ = two_sites
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json == {
        "status": "ok",
        "database": "ok",
        "witnesses": {
            WITNESS: {"site": a.site_key, "cosigned_size": 3, "behind": 2},
            OTHER: {"site": a.site_key, "cosigned_size": 0, "behind": 5},
        },
    }


def test_metrics_give_the_lag_per_site_and_witness(client, two_sites, api_as):
    a, b = two_sites
    answer = client.get("/api/v1/admin/metrics", headers=api_as("marketer"))
    assert answer.status_code == 200
    assert answer.content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples = [line for line in answer.text.splitlines() if not line.startswith("#")]
    assert sorted(samples) == sorted(
        [
            f'accord_witness_lag_records{{site="{a.site_key}",witness="{WITNESS}"}} 2',
            f'accord_witness_lag_records{{site="{a.site_key}",witness="{OTHER}"}} 5',
            f'accord_witness_lag_records{{site="{b.site_key}",witness="{WITNESS}"}} 0',
            f'accord_witness_lag_records{{site="{b.site_key}",witness="{OTHER}"}} 0',
            f'accord_witness_cosigned_size{{site="{a.site_key}",witness="{WITNESS}"}} 3',
            f'accord_witness_cosigned_size{{site="{a.site_key}",witness="{OTHER}"}} 0',
            f'accord_witness_cosigned_size{{site="{b.site_key}",witness="{WITNESS}"}} 4',
            f'accord_witness_cosigned_size{{site="{b.site_key}",witness="{OTHER}"}} 4',
        ]
    )
    assert "# TYPE accord_witness_lag_records gauge" in answer.text


def test_metrics_need_a_token_and_show_a_limited_account_its_sites_only(client, two_sites, api_as):
    a, b = two_sites
    refused = client.get("/api/v1/admin/metrics")
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"
    limited = client.get("/api/v1/admin/metrics", headers=api_as("marketer", [b.site_key]))
    assert limited.status_code == 200
    assert b.site_key in limited.text
    assert a.site_key not in limited.text


def test_without_witnesses_healthz_is_unchanged(client, app, two_sites, api_as):
    app.config["ACCORD_WITNESSES"] = []
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    text = client.get("/api/v1/admin/metrics", headers=api_as("marketer")).text
    assert "accord_witness_lag_records{" not in text
