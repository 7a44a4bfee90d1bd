"""GET /s/<key>.js: the published revision embedded, ETag and 304, gzip, cache rules."""

import gzip
import json

from cmp_server.services import client_config, revisions, sites
from cmp_server.services.snippet import CONFIG_PLACEHOLDER, script_json


def embedded_config(body: bytes, site_key: str) -> dict:
    text = body.decode()
    start = text.index('{"revision":')
    return json.JSONDecoder().raw_decode(text[start:])[0]


def test_snippet_embeds_the_published_revision(client, make_site):
    site = make_site()
    response = client.get(f"/s/{site.site_key}.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert CONFIG_PLACEHOLDER not in response.text
    config = embedded_config(response.data, site.site_key)
    assert config["revision"] == 1
    assert config["regime"] == "opt_in"
    assert config["api"] == f"http://consent.test/api/v1/sites/{site.site_key}"
    assert [c["key"] for c in config["config"]["categories"]] == [
        "necessary",
        "analytics",
        "marketing",
    ]


def test_etag_revalidation_gives_304(client, make_site):
    site = make_site()
    first = client.get(f"/s/{site.site_key}.js")
    etag = first.headers["ETag"]
    again = client.get(f"/s/{site.site_key}.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert "max-age" in first.headers["Cache-Control"]


def test_a_new_revision_changes_the_etag(client, make_site):
    site = make_site()
    before = client.get(f"/s/{site.site_key}.js").headers["ETag"]
    sites.import_site({**sites.export_site(site), "texts": {"en": {"title": "New"}}}, site)
    revisions.publish_revision(site)
    from cmp_server.extensions import db
    from cmp_server.services import lookup

    db.session.commit()
    lookup.forget_site(site.site_key)
    after = client.get(f"/s/{site.site_key}.js", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_gzip_is_served_when_accepted(client, make_site):
    site = make_site()
    plain = client.get(f"/s/{site.site_key}.js")
    zipped = client.get(f"/s/{site.site_key}.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_region_dependent_answers_are_private_unless_the_cdn_varies_on_country(client, make_site):
    same_everywhere = make_site(regimes={"default": "opt_in"})
    by_region = make_site(regimes={"default": "opt_in", "US": "opt_out"})
    assert (
        client.get(f"/s/{same_everywhere.site_key}.js")
        .headers["Cache-Control"]
        .startswith("public")
    )
    assert client.get(f"/s/{by_region.site_key}.js").headers["Cache-Control"].startswith("private")


def test_unpublished_and_unknown_sites(client, make_site):
    draft = make_site(published=False)
    assert client.get(f"/s/{draft.site_key}.js").status_code == 404
    assert client.get("/s/nope.js").status_code == 404
    config = client.get(f"/api/v1/sites/{draft.site_key}/config")
    assert config.status_code == 400
    assert config.json["error"]["code"] == "not_published"


def test_staff_text_cannot_close_the_script(client, make_site):
    site = make_site(texts={"en": {"title": "</script><script>alert(1)</script>\u2028"}})
    body = client.get(f"/s/{site.site_key}.js").text
    assert "</script>" not in body
    assert "\u2028" not in body
    assert script_json({"a": "</script>"}) == '{"a":"\\u003c/script\\u003e"}'


def test_the_snippet_carries_only_what_the_banner_reads(client, make_site):
    site = make_site()
    embedded = embedded_config(client.get(f"/s/{site.site_key}.js").data, site.site_key)
    full = client.get(f"/api/v1/sites/{site.site_key}/config").json
    assert "regimes" not in embedded["config"] and "name" not in embedded["config"]
    assert "revision_hash" not in embedded
    assert full["config"]["regimes"] and full["revision_hash"]
    # An opt_in visitor never sees the opt_out or notice regimes' first-layer buttons.
    unshown = ("do_not_sell", "notice_ok")
    assert embedded["config"]["texts"] == {
        lang: {k: v for k, v in texts.items() if k not in unshown}
        for lang, texts in full["config"]["texts"].items()
    }
    assert all(full["config"]["texts"][lang].get(k) for lang in ("en",) for k in unshown)
    pixel = embedded["config"]["categories"][2]["trackers"][0]
    assert pixel == {
        "name": "Ad pixel",
        "provider": "Demo Ads",
        "kind": "beacon",
        "purpose": {"en": "Counts ad conversions", "fr": "Compte les conversions publicitaires"},
        "duration": {"en": "13 months", "fr": "13 mois"},
    }


def test_the_stubs_lang_gets_the_one_language_the_site_offers(client, make_site):
    """GET /s/KEY.js?lang=<html lang>,<browser languages> (the inline stub's request): the
    configuration without texts, and one language's texts, picked as the snippet would."""
    site = make_site()
    fr = embedded_config(client.get(f"/s/{site.site_key}.js?lang=,fr-CA,en").data, site.site_key)
    assert "texts" not in fr["config"] and "labels" not in fr["config"]["categories"][1]
    assert fr["texts"]["lang"] == "fr"
    assert fr["texts"]["texts"]["accept_all"] == "Tout accepter"
    assert "do_not_sell" not in fr["texts"]["texts"]  # another regime's button
    assert fr["texts"]["categories"]["analytics"]["title"] == "Mesure d'audience"
    assert fr["config"]["categories"][1]["trackers"][0]["cookies"]
    # The first layer's texts only: the preferences dialog's come with its code, from the
    # texts file (GET /s/KEY/texts.REV.LANG.json), which holds them all.
    texts_file = client.get(f"/s/{site.site_key}/texts.1.fr.json").json
    first_layer = set(client_config.FIRST_LAYER_TEXTS) - {"do_not_sell", "notice_ok"}
    assert set(fr["texts"]["texts"]) == first_layer
    assert {k: texts_file["texts"][k] for k in first_layer} == fr["texts"]["texts"]
    for text in ("preferences_title", "save", "trackers", "erase", "consent_id"):
        assert text not in fr["texts"]["texts"] and texts_file["texts"][text]
    assert fr["texts"]["categories"] == {
        key: {"title": category["title"]} for key, category in texts_file["categories"].items()
    }
    assert texts_file["categories"]["analytics"]["description"]
    assert texts_file["categories"]["analytics"]["trackers"]
    for wanted in ("EN-gb", "de,it", ""):  # case-insensitive; none offered: the default
        config = embedded_config(
            client.get(f"/s/{site.site_key}.js?lang={wanted}").data, site.site_key
        )
        assert config["texts"]["lang"] == "en"
    plain = client.get(f"/s/{site.site_key}.js")
    assert set(embedded_config(plain.data, site.site_key)["config"]["texts"]) == {"en", "fr"}
    one = client.get(f"/s/{site.site_key}.js?lang=fr")
    assert len({plain.headers["ETag"], one.headers["ETag"]}) == 2


def test_a_strange_lang_is_the_default_language_never_an_error(client, make_site):
    site = make_site()
    for wanted in ("%00%ff", "x" * 5000, ",".join(["zz"] * 500) + ",fr", "<script>", "-,-"):
        response = client.get(f"/s/{site.site_key}.js?lang={wanted}")
        assert response.status_code == 200
        assert embedded_config(response.data, site.site_key)["texts"]["lang"] == "en"
