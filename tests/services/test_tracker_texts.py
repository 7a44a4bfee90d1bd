"""Issue 14, item 2: a tracker's purpose and duration, which visitors read, per language.

The configuration document takes `{"en": …, "fr": …}` or, as before, a plain string (the
default language's text); export and import round-trip; the snippet gets the site's languages
only; a new translation is a wording fix, a changed text a widened tracker."""

import json

import pytest

from cmp_server.extensions import db
from cmp_server.services import client_config, revisions, sites
from cmp_server.services.errors import InvalidInput


def tracker(config: dict, category: int = 1, index: int = 0) -> dict:
    return config["categories"][category]["trackers"][index]


def test_a_plain_string_is_the_default_languages_text(app, demo_config):
    config = {**demo_config, "languages": ["fr", "en"], "default_language": "fr"}
    tracker(config).update(purpose="Compte les visites", duration="")
    site = sites.import_site(config)
    exported = tracker(sites.export_site(site))
    assert exported["purpose"] == {"fr": "Compte les visites"}
    assert exported["duration"] == {}


def test_texts_per_language_round_trip_through_export_and_import(app, demo_config):
    tracker(demo_config).update(
        purpose={"en": "Counts visits", "fr": "Compte les visites"},
        duration={"en": "13 months", "fr": "13 mois"},
    )
    first = sites.import_site(demo_config)
    exported = json.loads(json.dumps(sites.export_site(first)))
    assert tracker(exported)["purpose"] == {"en": "Counts visits", "fr": "Compte les visites"}
    second = sites.import_site(exported)
    db.session.commit()
    assert sites.export_site(second) == exported


def test_the_cli_exports_and_imports_translated_tracker_texts(runner, demo_config, tmp_path):
    tracker(demo_config).update(purpose={"en": "Counts visits", "fr": "Compte les visites"})
    path = tmp_path / "site.json"
    path.write_text(json.dumps(demo_config), encoding="utf-8")
    imported = runner.invoke(args=["site", "import", str(path), "--json"])
    key = json.loads(imported.output)["site_key"]
    exported = json.loads(runner.invoke(args=["site", "export", key]).output)
    assert tracker(exported)["purpose"] == {"en": "Counts visits", "fr": "Compte les visites"}
    assert tracker(exported)["duration"] == {"en": "13 months", "fr": "13 mois"}


@pytest.mark.parametrize(
    ("purpose", "where"),
    [
        ({"EN": "Counts"}, ["EN"]),
        ({"en": 5}, ["en"]),
        ({"en": "x" * 2001}, ["en"]),
        ({"en": "bell\x07"}, ["en"]),
        (["Counts"], []),
        (5, []),
    ],
)
def test_bad_tracker_texts_are_refused_with_their_language(app, demo_config, purpose, where):
    tracker(demo_config)["purpose"] = purpose
    with pytest.raises(InvalidInput) as caught:
        sites.import_site(demo_config)
    messages = caught.value.fields["categories"][1]["trackers"][0]["purpose"]
    assert list(messages) == where if where else isinstance(messages, list)


def snippet(site) -> dict:
    revision = revisions.published_revision(site)
    client = client_config.client_config(revision, site.site_key, "opt_in", "https://x", False)
    return client_config.snippet_config(client)["config"]


def test_the_snippet_carries_the_sites_languages_only(app, demo_config):
    demo_config["categories"][0]["labels"]["de"] = {"title": "Notwendig", "description": ""}
    tracker(demo_config)["purpose"] = {"en": "Counts visits", "de": "Zählt Besuche"}
    site = sites.import_site(demo_config)
    revisions.publish_revision(site)
    config = snippet(site)
    assert set(config["texts"]) == {"en", "fr"}
    assert set(config["categories"][0]["labels"]) == {"en", "fr"}
    assert tracker(config)["purpose"] == {"en": "Counts visits"}
    # The revision (the proof of what was shown) keeps everything.
    published = json.loads(revisions.published_revision(site).canonical_json)
    assert tracker(published)["purpose"]["de"] == "Zählt Besuche"


def test_a_revision_from_before_translations_reaches_the_snippet_per_language(app, demo_config):
    site = sites.import_site(demo_config)
    revision = revisions.publish_revision(site)
    old = json.loads(revision.canonical_json)
    tracker(old).update(purpose="Counts visits", duration="13 months")
    client = {"config": old, "revision": 1, "regime": "opt_in"}
    config = client_config.snippet_config(client)["config"]
    assert tracker(config)["purpose"] == {"en": "Counts visits"}
    assert tracker(config)["duration"] == {"en": "13 months"}


def republish(site, change) -> object:
    data = sites.export_site(site)
    change(data)
    sites.import_site(data, site)
    return revisions.publish_revision(site)


def test_a_new_translation_is_a_wording_fix_a_changed_purpose_asks_again(app, demo_config):
    tracker(demo_config)["purpose"] = {"en": "Counts visits"}
    site = sites.import_site(demo_config)
    revisions.publish_revision(site)
    translated = republish(site, lambda d: tracker(d)["purpose"].update(fr="Compte les visites"))
    assert translated.requires_reconsent is False
    changed = republish(
        site, lambda d: tracker(d)["purpose"].update(fr="Compte les visites et les clics")
    )
    assert changed.requires_reconsent is True
    assert "widened" in changed.reconsent_reasons


def test_a_string_purpose_of_an_older_revision_compares_as_its_default_language():
    old = {
        "default_language": "en",
        "categories": [{"key": "a", "required": False, "consent_mode": [], "trackers": []}],
    }
    new = json.loads(json.dumps(old))
    base = {"name": "t", "kind": "cookie", "cookies": [], "domains": []}
    old["categories"][0]["trackers"] = [{**base, "purpose": "Counts visits"}]
    new["categories"][0]["trackers"] = [
        {**base, "purpose": {"en": "Counts visits", "fr": "Compte les visites"}}
    ]
    assert revisions.reconsent_reasons(old, new) == []
    new["categories"][0]["trackers"][0]["purpose"]["en"] = "Counts visits and clicks"
    assert revisions.reconsent_reasons(old, new) == ["tracker 't' in 'a' widened"]
