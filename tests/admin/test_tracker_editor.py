"""Issue 14, item 2: the console edits a tracker's purpose and duration in each of the site's
languages, and what it saves round-trips through the admin API's configuration document."""

import re

import pytest

from cmp_server.services import revisions, sites


@pytest.fixture
def marketer(console_as):
    return console_as("marketer")


def tracker_url(site, index=None) -> str:
    tail = "new" if index is None else str(index)
    return f"/admin/sites/{site.site_key}/categories/analytics/trackers/{tail}"


def analytics_trackers(site_key) -> list[dict]:
    exported = sites.export_site(sites.get_site(site_key))
    return next(c for c in exported["categories"] if c["key"] == "analytics")["trackers"]


def field_value(page: str, name: str) -> str:
    """The value of an input, or the text of a textarea, called `name` in the page."""
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page, re.S)
    if found is None:
        found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no field {name}"
    return found.group(1)


@pytest.mark.sqlite_only
def test_the_tracker_form_has_purpose_and_duration_per_site_language(marketer, make_site):
    site = make_site(published=False)
    page = marketer.get(tracker_url(site, 0)).get_data(as_text=True)
    assert field_value(page, "purpose_en") == "Counts visits"
    assert field_value(page, "purpose_fr") == "Compte les visites"
    assert field_value(page, "duration_fr") == "13 mois"
    assert "Purpose (fr)" in page and "Duration (en" in page


def test_a_tracker_saved_in_two_languages_keeps_both(marketer, make_site):
    site = make_site(published=False)
    answer = marketer.post(
        tracker_url(site),
        data={
            "name": "Heatmap",
            "provider": "Shop",
            "kind": "cookie",
            "purpose_en": "Records where you click",
            "purpose_fr": "Enregistre où vous cliquez",
            "duration_en": "1 year",
            "duration_fr": "",
            "cookies": "heat",
        },
    )
    assert answer.status_code == 302
    heatmap = analytics_trackers(site.site_key)[-1]
    assert heatmap["purpose"] == {
        "en": "Records where you click",
        "fr": "Enregistre où vous cliquez",
    }
    assert heatmap["duration"] == {"en": "1 year"}


def test_editing_keeps_texts_of_a_language_no_longer_offered(marketer, make_site, demo_config):
    demo_config["categories"][1]["trackers"][0]["purpose"]["de"] = "Zählt Besuche"
    site = make_site(published=False, **demo_config)
    answer = marketer.post(
        tracker_url(site, 0),
        data={
            "name": "Demo analytics",
            "provider": "Accord demo",
            "kind": "cookie",
            "purpose_en": "Counts visits",
            "purpose_fr": "Compte les visites du site",
            "duration_en": "13 months",
            "duration_fr": "13 mois",
            "cookies": "demo_analytics",
        },
    )
    assert answer.status_code == 302
    assert analytics_trackers(site.site_key)[0]["purpose"] == {
        "en": "Counts visits",
        "fr": "Compte les visites du site",
        "de": "Zählt Besuche",
    }


@pytest.mark.sqlite_only
def test_a_too_long_purpose_in_one_language_is_a_form_message(marketer, make_site):
    site = make_site(published=False)
    answer = marketer.post(
        tracker_url(site),
        data={"name": "X", "provider": "Y", "kind": "cookie", "purpose_fr": "x" * 2001},
    )
    assert answer.status_code == 200
    assert "Field cannot be longer than 2000 characters" in answer.get_data(as_text=True)
    assert [t["name"] for t in analytics_trackers(site.site_key)] == [
        "Demo analytics",
        "Visit counter",
    ]


def test_the_api_document_round_trips_the_console_edit(marketer, make_site, api_as, client):
    site = make_site(published=False)
    marketer.post(
        tracker_url(site, 1),
        data={
            "name": "Visit counter",
            "provider": "Accord demo",
            "kind": "storage",
            "purpose_en": "Remembers how many pages you saw",
            "purpose_fr": "Retient le nombre de pages vues",
            "duration_en": "13 months",
            "duration_fr": "13 mois",
            "cookies": "demo_visits",
        },
    )
    headers = api_as("admin")
    url = f"/api/v1/admin/sites/{site.site_key}/config"
    document = client.get(url, headers=headers).get_json()
    counter = document["categories"][1]["trackers"][1]
    assert counter["purpose"]["fr"] == "Retient le nombre de pages vues"
    assert client.put(url, json=document, headers=headers).status_code == 200
    assert client.get(url, headers=headers).get_json() == document
    # A document of the older form, with plain strings, is still accepted.
    counter["purpose"] = "Counts pages"
    assert client.put(url, json=document, headers=headers).status_code == 200
    assert analytics_trackers(site.site_key)[1]["purpose"] == {"en": "Counts pages"}


def test_regime_notices_are_edited_per_language_over_the_built_in_ones(marketer, make_site):
    """The GPC notice, the opt-out "Do not sell" button and the notice regime's OK are texts
    like the others: each language has Accord's own, and staff may replace them."""
    site = make_site(published=False, languages=["en", "pl"], default_language="en")
    page = marketer.get(f"/admin/sites/{site.site_key}/texts?lang=pl").get_data(as_text=True)
    assert "Twoja przeglądarka wysyła sygnał Global Privacy Control" in page
    assert "Nie sprzedawaj ani nie udostępniaj moich danych osobowych" in page
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/texts?lang=pl",
        data={"do_not_sell": "Nie sprzedawaj moich danych", "notice_ok": "Dobrze"},
    )
    assert answer.status_code == 302
    exported = sites.export_site(sites.get_site(site.site_key))
    assert exported["texts"]["pl"] == {
        "do_not_sell": "Nie sprzedawaj moich danych",
        "notice_ok": "Dobrze",
    }
    snapshot = revisions.revision_snapshot(sites.get_site(site.site_key))
    assert snapshot["texts"]["pl"]["do_not_sell"] == "Nie sprzedawaj moich danych"
    assert snapshot["texts"]["pl"]["gpc_notice"].startswith("Twoja przeglądarka")


def test_deleting_a_tracker_then_its_purpose(marketer, make_site):
    site = make_site(published=False)
    before = analytics_trackers(site.site_key)
    answer = marketer.post(f"{tracker_url(site, 0)}/delete", follow_redirects=True)
    assert answer.status_code == 200
    assert f"Tracker “{before[0]['name']}” removed from the draft." in answer.get_data(as_text=True)
    assert analytics_trackers(site.site_key) == before[1:]
    assert marketer.post(f"{tracker_url(site, 9)}/delete").status_code == 404

    answer = marketer.post(f"/admin/sites/{site.site_key}/categories/analytics/delete")
    assert answer.status_code == 302
    keys = [c["key"] for c in sites.export_site(sites.get_site(site.site_key))["categories"]]
    assert "analytics" not in keys and keys
