"""Compliance checks at publish: each rule refuses, says why and cites its source."""

import copy

import pytest

from cmp_server.extensions import db
from cmp_server.services import compliance, revisions
from cmp_server.services.compliance import check_config, contrast_ratio


@pytest.fixture
def snapshot(make_site):
    return revisions.revision_snapshot(make_site(published=False))


def revision_count(site) -> int:
    """The site's revisions as the database has them now (not as first loaded)."""
    db.session.expire(site)
    return site.revisions.count()


def codes(config):
    return [p.code for p in check_config(config)]


@pytest.mark.sqlite_only
def test_the_demo_configuration_passes(snapshot):
    assert check_config(snapshot) == []


def modified(snapshot, change):
    config = copy.deepcopy(snapshot)
    change(config)
    return config


CASES = {
    "no_refusal_first_layer": lambda c: c["texts"]["fr"].update(reject_all="  "),
    "category_on_by_default": lambda c: c["categories"][1].update(default_on=True),
    "opt_out_where_consent_required": lambda c: c["regimes"].update(FR="opt_out"),
    "consent_lifetime_too_long": lambda c: c.update(consent_lifetime_days=396),
    "refusal_remembered_less": lambda c: c.update(refusal_lifetime_days=30),
    "tracker_not_strictly_necessary": lambda c: c["categories"][0]["trackers"].append(
        {
            "name": "px",
            "provider": "Ads",
            "kind": "beacon",
            "purpose": "",
            "duration": "",
            "cookies": [],
            "domains": [],
            "privacy_policy_url": None,
        }
    ),
    "no_privacy_policy": lambda c: c.update(privacy_policy_url=None),
    "button_text_contrast": lambda c: c["look"]["colors"].update(reject_text="#3b5fe0"),
    "unequal_button_contrast": lambda c: c["look"]["colors"].update(
        reject_background="#f4f6ff", reject_text="#1f2933"
    ),
    "unequal_button_size": lambda c: c["look"].update(
        button_sizes={"accept": "large", "reject": "small"}
    ),
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("code", CASES)
def test_each_rule_refuses_with_a_cited_source(snapshot, code):
    problems = check_config(modified(snapshot, CASES[code]))
    assert code in [p.code for p in problems]
    problem = next(p for p in problems if p.code == code)
    assert problem.message
    assert "CNIL" in problem.source or "EDPB" in problem.source or "WCAG" in problem.source


@pytest.mark.sqlite_only
def test_thirteen_months_is_still_allowed(snapshot):
    assert "consent_lifetime_too_long" not in codes(
        modified(snapshot, lambda c: c.update(consent_lifetime_days=395))
    )


@pytest.mark.sqlite_only
def test_opt_out_is_fine_outside_consent_regions(snapshot):
    assert codes(modified(snapshot, lambda c: c["regimes"].update(US="opt_out", CA="notice"))) == []


@pytest.mark.parametrize(
    "a,b,ratio",
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_ratio_follows_wcag(a, b, ratio):
    assert contrast_ratio(a, b) == pytest.approx(ratio, abs=0.01)


def test_publishing_a_non_compliant_draft_is_refused_in_the_api(client, api_as, make_site):
    site = make_site(published=True, consent_lifetime_days=500, privacy_policy_url=None)
    answer = client.post(
        f"/api/v1/admin/sites/{site.site_key}/publish", json={}, headers=api_as("marketer")
    )
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "not_compliant"
    found = {p["code"] for p in error["fields"]["compliance"]}
    assert found == {"consent_lifetime_too_long", "no_privacy_policy"}
    assert all(p["source"] for p in error["fields"]["compliance"])
    assert revision_count(site) == 1


def test_publishing_a_non_compliant_draft_is_refused_in_the_console(console_as, make_site):
    site = make_site(published=True, consent_lifetime_days=500)
    client = console_as("marketer")
    page = client.get(f"/admin/sites/{site.site_key}/publish").get_data(as_text=True)
    assert "over 13 months" in page and "2020-092" in page
    answer = client.post(f"/admin/sites/{site.site_key}/publish", data={})
    assert answer.status_code == 400
    assert "Publishing is refused" in answer.get_data(as_text=True)
    assert revision_count(site) == 1


@pytest.mark.sqlite_only
def test_ensure_publishable_raises_with_every_problem(snapshot):
    config = modified(
        snapshot, lambda c: c.update(privacy_policy_url="", consent_lifetime_days=999)
    )
    with pytest.raises(compliance.InvalidInput) as raised:
        compliance.ensure_publishable(config)
    assert len(raised.value.fields["compliance"]) == 2
