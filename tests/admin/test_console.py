"""The console's pages: draft editing with validation messages, preview, publish, proofs,
audit log, security headers."""

import json

import pytest

from cmp_server.extensions import db
from cmp_server.models import ApiToken, AuditEvent
from cmp_server.services import revisions, sites


def events(action=None):
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.scalars(query).all()


@pytest.fixture
def marketer(console_as):
    return console_as("marketer")


def settings_form(site, **overrides):
    form = {
        "name": site.name,
        "origins": "\n".join(site.origins),
        "languages": "en, fr",
        "default_language": "en",
        "privacy_policy_url": "https://shop.example/privacy",
        "consent_lifetime_days": "182",
        "regimes": "default=opt_in\nUS=opt_out",
    }
    form.update(overrides)
    return form


def test_settings_edit_goes_to_the_draft_and_is_audited(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/settings", data=settings_form(site, name="Renamed shop")
    )
    assert answer.status_code == 302
    assert sites.get_site(site.site_key).name == "Renamed shop"
    published = json.loads(revisions.published_revision(site).canonical_json)
    assert published["name"] != "Renamed shop"  # visitors still see revision 1
    assert events("site.draft.update")[0].actor == "marketer-0@example.com"


@pytest.mark.sqlite_only
def test_invalid_settings_show_the_validation_messages(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/settings",
        data=settings_form(site, regimes="default=maybe", origins="ftp://x"),
    )
    assert answer.status_code == 400  # the form again, with its errors
    page = answer.get_data(as_text=True)
    assert "Must be one of" in page  # marshmallow's message, next to the regimes field
    assert "is not an origin" in page
    assert sites.get_site(site.site_key).regimes["default"] == "opt_in"


def test_texts_per_language(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/texts?lang=fr",
        data={"title": "Vos données", "reject_all": "Continuer sans accepter"},
    )
    assert answer.status_code == 302
    texts = sites.get_site(site.site_key).texts["fr"]
    assert texts == {"title": "Vos données", "reject_all": "Continuer sans accepter"}


def test_look_colours_are_validated(marketer, make_site):
    site = make_site(published=True)
    colors = {
        "background": "#ffffff",
        "text": "#111111",
        "accept_background": "#1d4ed8",
        "accept_text": "#ffffff",
        "reject_background": "#1d4ed8",
        "reject_text": "#ffffff",
        "link": "#1d4ed8",
    }
    bad = marketer.post(
        f"/admin/sites/{site.site_key}/look", data={"position": "top", **colors, "text": "red"}
    )
    assert bad.status_code == 200
    assert "Write the colour as # and six hex digits." in bad.get_data(as_text=True)
    ok = marketer.post(f"/admin/sites/{site.site_key}/look", data={"position": "top", **colors})
    assert ok.status_code == 302
    assert sites.get_site(site.site_key).look["position"] == "top"


def test_add_a_category_and_a_tracker(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/categories/new",
        data={
            "key": "personalisation",
            "honor_gpc": "y",
            "consent_mode": ["personalization_storage"],
            "title_en": "Personalisation",
            "description_en": "Remembers what you like.",
            "title_fr": "Personnalisation",
            "description_fr": "",
        },
    )
    assert answer.status_code == 302
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/categories/personalisation/trackers/new",
        data={
            "name": "prefs",
            "provider": "Shop",
            "kind": "storage",
            "purpose_en": "Layout",
            "duration_en": "1 year",
            "cookies": "prefs_*\nlayout",
            "domains": "",
        },
    )
    assert answer.status_code == 302
    category = sites.get_site(site.site_key).categories[-1]
    assert category.key == "personalisation" and category.consent_mode == [
        "personalization_storage"
    ]
    assert category.trackers[0].cookies == ["prefs_*", "layout"]
    assert category.trackers[0].purpose == {"en": "Layout"}


@pytest.mark.sqlite_only
def test_a_duplicate_category_key_is_a_form_message(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/categories/new",
        data={"key": "analytics", "title_en": "Again"},
    )
    assert answer.status_code == 200
    assert "category keys must be unique" in answer.get_data(as_text=True)


@pytest.mark.sqlite_only
def test_json_editor_reports_bad_json(marketer, make_site):
    site = make_site(published=True)
    answer = marketer.post(f"/admin/sites/{site.site_key}/json", data={"document": "{nope"})
    assert "Not valid JSON" in answer.get_data(as_text=True)


def test_publish_shows_the_diff_and_reconsent_then_records_who(marketer, make_site):
    site = make_site(published=True)
    data = sites.export_site(site)
    data["categories"][1]["trackers"].append(
        {"name": "Heatmap", "provider": "HM", "kind": "cookie", "cookies": ["_hm"]}
    )
    data["texts"] = {"en": {"title": "Cookies?"}}
    sites.import_site(data, site)
    db.session.commit()
    page = marketer.get(f"/admin/sites/{site.site_key}/publish").get_data(as_text=True)
    assert "categories[analytics].trackers[Heatmap].kind" in page
    assert "texts.en.title" in page and "Cookies?" in page
    assert "Visitors will be asked again" in page and "Heatmap" in page
    assert marketer.post(f"/admin/sites/{site.site_key}/publish", data={}).status_code == 302
    revision = revisions.published_revision(site)
    assert revision.number == 2 and revision.requires_reconsent
    assert revision.published_by == "marketer-0@example.com"
    assert events("site.publish")[0].details["revision"] == 2


@pytest.mark.sqlite_only
def test_preview_runs_the_real_snippet_with_the_draft_and_a_nonce(marketer, make_site):
    site = make_site(published=True, name="Draft name")
    page = marketer.get(f"/admin/sites/{site.site_key}/preview")
    nonce = page.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in page.get_data(as_text=True)
    script = marketer.get(f"/admin/sites/{site.site_key}/preview.js").get_data(as_text=True)
    assert "__ACCORD_CONFIG__" not in script
    assert '"preview":true' in script and '"name":"Draft name"' in script
    assert "/admin/preview-sink" in script  # decisions go nowhere
    sink = marketer.post(
        "/admin/preview-sink/consents", data='{"consent_id": "x"}', content_type="text/plain"
    )
    assert sink.status_code == 201 and sink.get_json()["recorded"] is False


@pytest.mark.sqlite_only
def test_console_security_headers(console_as):
    answer = console_as("admin").get("/admin/sites")
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "nonce-" not in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["Cache-Control"] == "no-store"
    login = console_as(None).get("/admin/login")
    assert "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]


@pytest.mark.sqlite_only
def test_console_pages_have_no_inline_script_or_style(console_as, seeded_site):
    client = console_as("admin")
    for path in (
        "/admin/sites",
        f"/admin/sites/{seeded_site.site_key}",
        f"/admin/sites/{seeded_site.site_key}/dashboard",
        f"/admin/sites/{seeded_site.site_key}/proofs/1",
        "/admin/audit",
    ):
        page = client.get(path).get_data(as_text=True)
        assert "<script" not in page and "style=" not in page and "<style" not in page, path


def test_proof_page_shows_the_record_what_was_seen_and_verification(console_as, seeded_site):
    page = console_as("dpo").get(f"/admin/sites/{seeded_site.site_key}/proofs/3")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Verified" in text and "chain link" in text
    assert "We value your privacy" in text or "Nous respectons votre vie privée" in text
    assert "ip_truncated" in text and "personal_digest" in text


def test_proof_search_by_consent_id_and_period(console_as, seeded_site):
    from cmp_server.services.records import search_records

    records, _ = search_records(seeded_site, per_page=3)
    wanted = records[1]
    client = console_as("dpo")
    page = client.get(f"/admin/sites/{seeded_site.site_key}/proofs?consent_id={wanted.consent_id}")
    text = page.get_data(as_text=True)
    assert wanted.consent_id in text and records[0].consent_id not in text
    empty = client.get(
        f"/admin/sites/{seeded_site.site_key}/proofs?since=2000-01-01&until=2000-01-02"
    )
    assert "No record matches" in empty.get_data(as_text=True)
    bad = client.get(f"/admin/sites/{seeded_site.site_key}/proofs?since=yesterday")
    assert bad.status_code == 400


def test_export_downloads_and_is_audited(console_as, seeded_site):
    answer = console_as("dpo").get(f"/admin/sites/{seeded_site.site_key}/proofs/export?format=csv")
    lines = answer.get_data(as_text=True).strip().splitlines()
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert len(lines) == 13  # header + 12 records
    event = events("consents.export")[0]
    assert event.actor == "dpo-0@example.com" and event.target == "csv"


def test_audit_log_filter_and_csv(console_as, seeded_site):
    client = console_as("admin")
    client.post(f"/admin/sites/{seeded_site.site_key}/retention", data={"retention_days": "400"})
    page = client.get("/admin/audit?action=site.retention").get_data(as_text=True)
    assert "site.retention.update" in page
    csv_text = client.get("/admin/audit.csv?action=site.retention").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("at,actor,via,action")
    assert "site.retention.update" in csv_text


def test_site_limited_dpo_sees_only_their_sites_audit_events(console_as, make_site):
    mine = make_site(published=True, name="Mine")
    theirs = make_site(published=True, name="Theirs")
    console_as("admin").post(
        f"/admin/sites/{theirs.site_key}/retention", data={"retention_days": "401"}
    )
    page = console_as("dpo", site_keys=[mine.site_key]).get("/admin/audit").get_data(as_text=True)
    assert theirs.site_key not in page


def test_tokens_page_shows_a_new_token_once(console_as):
    client = console_as("marketer")
    created = client.post("/admin/tokens", data={"name": "ci"}).get_data(as_text=True)
    assert "acc_" in created
    listing = client.get("/admin/tokens").get_data(as_text=True)
    secret = created.split('data-test="new-token">')[1].split("<")[0]
    assert secret not in listing and secret[:12] in listing


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "form,field",
    [({"name": "ci", "expires_in_days": "0"}, "expires_in_days"), ({"name": "x" * 101}, "name")],
)
def test_an_invalid_token_form_is_shown_again_with_a_400(console_as, form, field):
    answer = console_as("marketer").post("/admin/tokens", data=form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert f'id="{field}-err"' in page and 'data-test="new-token"' not in page
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 0
