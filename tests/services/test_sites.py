"""Site configuration: import/export round trip, validation, revisions and re-consent."""

import json

import pytest

from cmp_server.extensions import db
from cmp_server.proof.canonical import canonical_json, sha256_hex
from cmp_server.services import client_config, publishing, revisions, sites
from cmp_server.services.audit import Actor
from cmp_server.services.errors import Conflict, Forbidden, InvalidInput

EDITOR = Actor("editor@x.example", "api")


def test_export_then_import_gives_the_same_site(app, demo_config):
    first = sites.import_site(demo_config)
    exported = sites.export_site(first)
    second = sites.import_site(json.loads(json.dumps(exported)))
    assert sites.export_site(second) == exported
    assert second.site_key != first.site_key


def test_import_into_an_existing_site_replaces_its_draft(app, demo_config):
    site = sites.import_site(demo_config)
    smaller = {**demo_config, "categories": demo_config["categories"][:1], "name": "Renamed"}
    sites.import_site(smaller, site)
    db.session.commit()
    assert [c.key for c in site.categories] == ["necessary"]
    assert site.name == "Renamed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"origins": ["ftp://shop.example"]}, "origins"),
        ({"origins": ["https://shop.example/path"]}, "origins"),
        ({"languages": []}, "languages"),
        ({"default_language": "de"}, "default_language"),
        ({"consent_lifetime_days": "182"}, "consent_lifetime_days"),
        ({"regimes": {"Mars": "opt_in"}}, "regimes"),
        ({"regimes": {"US": "maybe"}}, "regimes"),
        ({"texts": {"en": {"unknown_key": "x"}}}, "texts"),
        ({"texts": {"de": {"title": "x"}}}, "texts"),
        ({"look": {"colors": {"background": "red"}}}, "look"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_configurations_name_the_field(app, demo_config, change, field):
    with pytest.raises(InvalidInput) as error:
        sites.import_site({**demo_config, **change})
    assert field in error.value.fields


def test_duplicate_category_keys_and_bad_tracker_kinds_are_refused(app, demo_config):
    twice = {**demo_config, "categories": demo_config["categories"] + demo_config["categories"][:1]}
    with pytest.raises(InvalidInput):
        sites.import_site(twice)
    bad = json.loads(json.dumps(demo_config))
    bad["categories"][1]["trackers"][0]["kind"] = "pixel"
    with pytest.raises(InvalidInput) as error:
        sites.import_site(bad)
    assert "categories" in error.value.fields


def test_origins_are_normalised(app, demo_config):
    site = sites.import_site(
        {**demo_config, "origins": ["HTTPS://Shop.Example:443/", "http://localhost:5000"]}
    )
    assert site.origins == ["http://localhost:5000", "https://shop.example"]


def test_revision_hash_does_not_depend_on_key_order(app, demo_config):
    reordered = json.loads(json.dumps(demo_config, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    a = revisions.publish_revision(sites.import_site(demo_config))
    b = revisions.publish_revision(sites.import_site(reordered))
    assert a.config_hash == b.config_hash
    assert a.config_hash == sha256_hex(a.canonical_json.encode())
    assert canonical_json(json.loads(a.canonical_json)) == a.canonical_json


def test_revision_holds_every_text_the_visitor_sees(app, demo_config):
    custom = {**demo_config, "texts": {"fr": {"title": "Vos cookies"}}}
    revision = revisions.publish_revision(sites.import_site(custom))
    snapshot = json.loads(revision.canonical_json)
    assert snapshot["texts"]["fr"]["title"] == "Vos cookies"
    assert snapshot["texts"]["fr"]["reject_all"] == "Tout refuser"
    assert snapshot["texts"]["en"]["accept_all"] == "Accept all"
    assert "origins" not in snapshot
    assert len(revision.snippet_hash) == 64


def _with_tracker(config, category_index, **tracker):
    changed = json.loads(json.dumps(config))
    changed["categories"][category_index]["trackers"].append(
        {"provider": "X", "kind": "cookie", "purpose": "p", "duration": "1 day", **tracker}
    )
    return changed


@pytest.mark.parametrize(
    ("mutate", "requires"),
    [
        (lambda c: c, False),
        (lambda c: {**c, "texts": {"en": {"title": "Cookies?"}}}, False),
        (lambda c: _with_tracker(c, 1, name="New analytics"), True),
        (lambda c: _with_tracker(c, 0, name="New session cookie"), False),
        (
            lambda c: {
                **c,
                "categories": [
                    *c["categories"],
                    {"key": "social", "labels": {"en": {"title": "Social"}}},
                ],
            },
            True,
        ),
    ],
)
def test_reconsent_is_required_when_purposes_or_trackers_widen(app, demo_config, mutate, requires):
    site = sites.import_site(demo_config)
    first = revisions.publish_revision(site)
    assert (first.number, first.requires_reconsent, first.reconsent_revision) == (1, True, 1)
    sites.import_site(mutate(json.loads(json.dumps(demo_config))), site)
    second = revisions.publish_revision(site)
    assert second.number == 2
    assert second.requires_reconsent is requires
    assert second.reconsent_revision == (2 if requires else 1)


def test_a_widening_revision_cannot_skip_reconsent(app, demo_config):
    site = sites.import_site(demo_config)
    revisions.publish_revision(site)
    sites.import_site(_with_tracker(demo_config, 2, name="Another pixel"), site)
    with pytest.raises(InvalidInput, match="requires re-consent"):
        revisions.publish_revision(site, requires_reconsent=False)


def test_the_publisher_may_ask_reconsent_for_a_wording_fix(app, demo_config):
    site = sites.import_site(demo_config)
    revisions.publish_revision(site)
    sites.import_site({**demo_config, "texts": {"en": {"description": "Clearer."}}}, site)
    revision = revisions.publish_revision(
        site, requires_reconsent=True, published_by="dpo@x.example"
    )
    assert revision.requires_reconsent and revision.reconsent_revision == 2
    assert revision.published_by == "dpo@x.example"


@pytest.mark.parametrize(
    ("regimes", "country", "regime"),
    [
        ({"default": "opt_out"}, None, "opt_in"),
        ({"default": "opt_out"}, "BR", "opt_out"),
        ({"default": "notice", "EEA": "opt_in"}, "FR", "opt_in"),
        ({"default": "notice", "EEA": "opt_in"}, "GB", "notice"),
        ({"default": "notice", "EEA": "opt_in", "FR": "opt_out"}, "FR", "opt_out"),
        ({}, "US", "opt_in"),
    ],
)
def test_regime_for_country(regimes, country, regime):
    assert client_config.regime_for(regimes, country) == regime


def test_a_draft_without_retention_keeps_the_sites_and_a_new_value_needs_the_capability(
    app, demo_config
):
    site = sites.import_site({**demo_config, "retention_days": 400})
    sites.save_draft(site, {**demo_config, "name": "Renamed"}, EDITOR, False, "api")
    assert (site.name, site.retention_days) == ("Renamed", 400)
    with pytest.raises(Forbidden) as refused:
        sites.save_draft(site, {**demo_config, "retention_days": 30}, EDITOR, False, "api")
    assert refused.value.fields == {"retention_days": [sites.RETENTION_ONLY_ON_ITS_PAGE]}
    assert site.retention_days == 400


def test_publishing_refuses_the_published_revision_but_not_a_revert(app, demo_config):
    site = sites.import_site(demo_config)
    assert publishing.publish(site, None, EDITOR).number == 1
    with pytest.raises(Conflict, match="nothing to publish"):
        publishing.publish(site, True, EDITOR)
    sites.import_site({**demo_config, "texts": {"en": {"title": "Cookies?"}}}, site)
    assert publishing.publish(site, None, EDITOR).number == 2
    sites.import_site(demo_config, site)
    revert = publishing.publish(site, None, EDITOR)
    assert revert.number == 3 and revert.config_hash == revisions.get_revision(site, 1).config_hash
