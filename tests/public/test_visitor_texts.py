"""GET /s/<key>/texts.<revision>.<lang>.json: what a visitor reads, in one language.

The core snippet carries no visitor text; its UI fetches this payload in the one language
the page speaks, so a page downloads no other language, whatever the site offers."""

import gzip
import json
import os
from pathlib import Path

import pytest

from cmp_server.services import client_config, revisions, sites, visitor_texts
from cmp_server.services.texts import built_in_texts, texts_for


def url(site, revision=1, lang="fr") -> str:
    return f"/s/{site.site_key}/texts.{revision}.{lang}.json"


def test_one_languages_texts_labels_and_trackers(client, make_site):
    site = make_site()
    response = client.get(url(site))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    payload = response.get_json()
    assert payload["lang"] == "fr"
    assert payload["texts"] == texts_for("fr", None)
    analytics = payload["categories"]["analytics"]
    assert analytics["title"] == "Mesure d'audience"
    assert analytics["trackers"][0] == {
        "name": "Demo analytics",
        "provider": "Accord demo",
        "purpose": "Compte les visites",
        "duration": "13 mois",
    }
    assert "Counts visits" not in response.text and "We value your privacy" not in response.text


def test_a_missing_text_is_the_default_languages_one_string_by_string(
    client, make_site, demo_config
):
    demo_config["categories"][1]["labels"]["fr"] = {"title": "Statistiques", "description": ""}
    del demo_config["categories"][2]["trackers"][0]["purpose"]["fr"]
    demo_config["texts"] = {"en": {"title": "Cookies at Shop"}, "fr": {"save": "Valider"}}
    site = make_site(**demo_config)
    payload = client.get(url(site)).get_json()
    assert payload["categories"]["analytics"]["title"] == "Statistiques"
    assert payload["categories"]["analytics"]["description"] == (
        "Counts visits to improve the site."
    )
    assert payload["categories"]["marketing"]["trackers"][0]["purpose"] == "Counts ad conversions"
    assert payload["texts"]["save"] == "Valider"
    assert payload["texts"]["title"] == built_in_texts("fr")["title"]


def test_a_revision_from_before_a_text_existed_gets_accords_own(app, make_site):
    """A revision published before "preferences_failed" and "retry" existed (the banner's
    words when the preferences dialog cannot be fetched) still gets them, in its language."""
    config = json.loads(revisions.published_revision(make_site()).canonical_json)
    for texts in config["texts"].values():
        texts.pop("preferences_failed", None)
        texts.pop("retry", None)
    payload = visitor_texts.language_payload(config, "fr")
    assert payload["texts"]["retry"] == built_in_texts("fr")["retry"] == "Réessayer"
    assert payload["texts"]["preferences_failed"] == built_in_texts("fr")["preferences_failed"]
    assert payload["texts"]["accept_all"] == config["texts"]["fr"]["accept_all"]


def test_gzip_etag_immutable_and_readable_from_any_page(client, make_site):
    site = make_site()
    response = client.get(url(site), headers={"Accept-Encoding": "gzip", "Origin": "https://x"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["lang"] == "fr"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(url(site), headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_an_earlier_revision_keeps_its_texts(client, make_site, demo_config):
    site = make_site()
    data = sites.export_site(site)
    data["categories"][1]["labels"]["fr"]["title"] = "Statistiques"
    sites.import_site(data, site)
    revisions.publish_revision(site)
    assert client.get(url(site, 1)).get_json()["categories"]["analytics"]["title"] == (
        "Mesure d'audience"
    )
    assert client.get(url(site, 2)).get_json()["categories"]["analytics"]["title"] == (
        "Statistiques"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/s/{key}/texts.1.de.json",  # a language the site does not offer
        "/s/{key}/texts.7.fr.json",  # no such revision
        "/s/nosuchsite00/texts.1.fr.json",
        "/s/{key}/texts.x.fr.json",
    ],
)
def test_what_does_not_exist_is_a_404(client, make_site, path):
    site = make_site()
    assert client.get(path.format(key=site.site_key)).status_code == 404


def test_the_core_configuration_carries_no_visitor_text(app, make_site):
    site = make_site()
    client = client_config.client_config(
        revisions.published_revision(site), site.site_key, "opt_in", "https://x", False
    )
    core = client_config.snippet_config(client, texts=False)
    text = json.dumps(core, ensure_ascii=False)
    for needle in ("We value", "Tout accepter", "Mesure d'audience", "Counts visits", "Demo Ads"):
        assert needle not in text
    analytics = core["config"]["categories"][1]
    assert analytics["trackers"] == [
        {"cookies": ["demo_analytics", "_demo_ga*"], "kind": "cookie"},
        {"cookies": ["demo_visits"], "kind": "storage"},
    ]
    assert core["config"]["languages"] == ["en", "fr"]
    full = client_config.snippet_config(client)
    assert set(full["config"]["texts"]) == {"en", "fr"}


FIXTURES = Path(__file__).resolve().parents[2] / "snippet/test"
DEMO_KEY = "q3Xv9LmT2bKw"  # the size reference's site key (tests/snippet/test_embedded_config.py)


def test_the_builds_size_references_for_the_core_and_the_texts(app, make_site):
    """snippet/build.mjs counts a first visit as stub + core (its configuration without texts,
    demo-snippet-config.core.json) + UI + one language's texts (demo-texts.fr.json: French,
    the demo's longer language). ACCORD_UPDATE_SNIPPET_FIXTURE=1 rewrites the files."""
    site = make_site()
    revision = revisions.published_revision(site)
    api = f"http://127.0.0.1:5000/api/v1/sites/{DEMO_KEY}"
    client = client_config.client_config(revision, DEMO_KEY, "opt_in", api, False)
    expected = {
        "demo-snippet-config.core.json": client_config.snippet_config(client, texts=False),
        "demo-texts.fr.json": visitor_texts.language_payload(
            json.loads(revision.canonical_json), "fr"
        ),
    }
    for name, value in expected.items():
        if os.environ.get("ACCORD_UPDATE_SNIPPET_FIXTURE") == "1":
            text = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
            (FIXTURES / name).write_text(text, encoding="utf-8")
        kept = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        assert json.dumps(kept) == json.dumps(value), (
            f"{name} is not what the server sends; rewrite it with "
            "ACCORD_UPDATE_SNIPPET_FIXTURE=1 pytest tests/public/test_visitor_texts.py"
        )
