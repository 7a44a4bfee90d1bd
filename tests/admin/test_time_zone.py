"""A site's time zone: set in the settings form, the admin API and the configuration document
(applied at once, audited, never published), and used for every date the console shows for
the site; exports and the published revision stay as they were."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cmp_server.extensions import db
from cmp_server.models import AuditEvent, ConsentRecord
from cmp_server.openapi import openapi_document
from cmp_server.services import publishing, revisions, sites

KNOWN = datetime(2026, 12, 5, 8, 14, 7, tzinfo=UTC)


def events(action):
    query = db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return db.session.scalars(query).all()


def settings_form(site, **overrides):
    return {
        "name": site.name,
        "origins": "\n".join(site.origins),
        "languages": ", ".join(site.languages),
        "default_language": site.default_language,
        "privacy_policy_url": site.privacy_policy_url,
        "consent_lifetime_days": str(site.consent_lifetime_days),
        "regimes": "\n".join(f"{k}={v}" for k, v in site.regimes.items()),
        **overrides,
    }


def set_zone(site, zone):
    site.time_zone = zone
    db.session.commit()


@pytest.fixture
def admin(console_as):
    return console_as("admin")


def test_the_settings_form_sets_the_zone_at_once_audited_and_not_published(console_as, make_site):
    site = make_site(published=True)
    marketer = console_as("marketer")
    page = marketer.get(f"/admin/sites/{site.site_key}/settings").get_data(as_text=True)
    assert 'name="time_zone"' in page and 'value="UTC"' in page
    assert '<option value="Europe/Paris">' in page  # suggested names
    answer = marketer.post(
        f"/admin/sites/{site.site_key}/settings",
        data=settings_form(site, time_zone=" Europe/Paris "),
    )
    assert answer.status_code == 302
    assert sites.get_site(site.site_key).time_zone == "Europe/Paris"
    [event] = events("site.time_zone.update")
    assert event.details == {"before": "UTC", "after": "Europe/Paris"}
    assert event.actor == "marketer-0@example.com"
    # A display setting: nothing for visitors changed, so there is nothing to publish.
    assert publishing.draft_unchanged(sites.get_site(site.site_key))
    page = marketer.get(f"/admin/sites/{site.site_key}/settings").get_data(as_text=True)
    assert 'value="Europe/Paris"' in page
    # Saving the same zone again records no change; an empty field means UTC.
    marketer.post(
        f"/admin/sites/{site.site_key}/settings",
        data=settings_form(site, time_zone="Europe/Paris"),
    )
    assert len(events("site.time_zone.update")) == 1
    marketer.post(f"/admin/sites/{site.site_key}/settings", data=settings_form(site, time_zone=""))
    assert sites.get_site(site.site_key).time_zone == "UTC"


def test_the_audit_log_says_it_in_words(admin, make_site):
    site = make_site(published=True)
    admin.post(
        f"/admin/sites/{site.site_key}/settings",
        data=settings_form(site, time_zone="Asia/Kolkata"),
    )
    page = admin.get("/admin/audit?action=site.time_zone").get_data(as_text=True)
    assert "changed the time zone of the console’s dates" in page
    assert "<del>UTC</del>" in page and "<ins>Asia/Kolkata</ins>" in page


@pytest.mark.sqlite_only
@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/paris", "localtime", "CET; DROP"])
def test_an_unknown_zone_is_a_form_error(console_as, make_site, zone):
    site = make_site(published=True)
    answer = console_as("marketer").post(
        f"/admin/sites/{site.site_key}/settings", data=settings_form(site, time_zone=zone)
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'id="time_zone-err"' in page and "is not a time zone name" in page
    assert sites.get_site(site.site_key).time_zone == "UTC"
    assert events("site.time_zone.update") == []


def test_the_api_round_trips_the_zone_and_refuses_an_unknown_one(client, api_as, make_site):
    site = make_site(published=True)
    headers = api_as("marketer")
    url = f"/api/v1/admin/sites/{site.site_key}/config"
    config = client.get(url, headers=headers).get_json()
    assert config["time_zone"] == "UTC"
    answer = client.put(url, json={**config, "time_zone": "America/New_York"}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["time_zone"] == "America/New_York"
    assert client.get(url, headers=headers).get_json()["time_zone"] == "America/New_York"
    assert events("site.time_zone.update")[0].via == "api"
    # A document without the zone keeps the site's (as with retention_days).
    del config["time_zone"]
    assert client.put(url, json=config, headers=headers).get_json()["time_zone"] == (
        "America/New_York"
    )
    refused = client.put(url, json={**config, "time_zone": "Europe/Pariss"}, headers=headers)
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert "is not a time zone name" in error["fields"]["time_zone"][0]
    assert sites.get_site(site.site_key).time_zone == "America/New_York"


@pytest.mark.sqlite_only
def test_the_openapi_document_describes_the_zone(app):
    with app.app_context():
        spec = openapi_document()
    field = spec["components"]["schemas"]["SiteConfig"]["properties"]["time_zone"]
    assert field["type"] == "string" and field["example"] == "Europe/Paris"


def test_export_and_import_carry_the_zone(runner, make_site, tmp_path):
    site = make_site(published=True)
    set_zone(site, "Europe/Lisbon")
    exported = runner.invoke(args=["site", "export", site.site_key])
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.output)
    assert document["time_zone"] == "Europe/Lisbon"
    path = tmp_path / "site.json"
    path.write_text(json.dumps(document))
    imported = runner.invoke(args=["site", "import", str(path), "--json"])
    assert imported.exit_code == 0, imported.output
    copy = sites.get_site(json.loads(imported.output)["site_key"])
    assert copy.time_zone == "Europe/Lisbon"
    assert sites.export_site(copy) == document
    path.write_text(json.dumps({**document, "time_zone": "Lisbon"}))
    refused = runner.invoke(args=["site", "import", str(path)])
    assert refused.exit_code != 0 and "time_zone" in refused.output


def test_the_zone_is_not_part_of_the_revision(make_site):
    site = make_site(published=True)
    before = revisions.revision_snapshot(site)
    set_zone(site, "Asia/Tokyo")
    assert revisions.revision_snapshot(site) == before
    assert "time_zone" not in before


@pytest.mark.parametrize(
    "zone,shown,attributes",
    [
        (
            "UTC",
            "2026-12-05 08:14 UTC",
            'datetime="2026-12-05T08:14:07Z"',
        ),
        (
            "Europe/Paris",
            "2026-12-05 09:14 CET",
            'datetime="2026-12-05T09:14:07+01:00" title="2026-12-05 08:14:07 UTC (Europe/Paris)"',
        ),
        (
            "America/Sao_Paulo",
            "2026-12-05 05:14 -03:00",
            'datetime="2026-12-05T05:14:07-03:00"',
        ),
    ],
)
def test_the_overview_shows_a_known_instant_in_the_site_zone(
    admin, make_site, zone, shown, attributes
):
    site = make_site(published=True)
    revisions.published_revision(site).published_at = KNOWN
    set_zone(site, zone)
    page = admin.get(f"/admin/sites/{site.site_key}").get_data(as_text=True)
    assert f"<time {attributes}" in page
    assert f">{shown}</time>" in page


def shown_in(moment: datetime, zone: str, seconds=True) -> str:
    """The instant as the console should write it, computed apart from services/timefmt."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M:%S " if seconds else "%Y-%m-%d %H:%M ") + "IST"


def test_records_audit_and_verify_pages_use_the_site_zone(admin, seeded_site):
    site = seeded_site
    record = db.session.scalars(
        db.select(ConsentRecord)
        .where(ConsentRecord.site_id == site.id)
        .order_by(ConsentRecord.position.desc())
    ).first()
    set_zone(site, "Asia/Kolkata")
    listing = admin.get(f"/admin/sites/{site.site_key}/proofs").get_data(as_text=True)
    assert f">{shown_in(record.received_at, 'Asia/Kolkata')}</time>" in listing
    page = admin.get(f"/admin/sites/{site.site_key}/proofs/{record.position}").get_data(
        as_text=True
    )
    assert f">{shown_in(record.received_at, 'Asia/Kolkata')}</time>" in page
    assert f">{shown_in(record.expires_at, 'Asia/Kolkata')}</time>" in page
    assert " UTC</time>" not in page
    # The audit log of this one site is in its zone; the whole log stays in UTC.
    admin.post(f"/admin/sites/{site.site_key}/verify", data={})
    narrowed = admin.get(f"/admin/audit?site={site.site_key}").get_data(as_text=True)
    assert "Times are in Asia/Kolkata" in narrowed and " IST</time>" in narrowed
    whole = admin.get("/admin/audit").get_data(as_text=True)
    assert "Times are in UTC" in whole and " IST</time>" not in whole
    assert admin.get("/admin/audit?site=nope").status_code == 200


def test_pages_of_no_site_stay_in_utc(admin, make_site):
    site = make_site(published=True)
    set_zone(site, "Asia/Tokyo")
    admin.get(f"/admin/sites/{site.site_key}")  # a site page before: nothing carries over
    page = admin.post("/admin/tokens", data={"name": "ci", "expires_in_days": "30"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "It expires on <time" in text
    assert " UTC</time>" in text and " JST</time>" not in text


def test_exports_do_not_change_with_the_zone(console_as, seeded_site):
    dpo = console_as("dpo")
    url = f"/admin/sites/{seeded_site.site_key}/proofs/export?format="
    before = {fmt: dpo.get(url + fmt).get_data() for fmt in ("csv", "ndjson")}
    set_zone(seeded_site, "Pacific/Auckland")
    after = {fmt: dpo.get(url + fmt).get_data() for fmt in ("csv", "ndjson")}
    assert after == before and before["csv"] and before["ndjson"]


@pytest.mark.sqlite_only
def test_the_dashboard_says_its_days_are_utc_days(admin, make_site):
    site = make_site(published=True)
    set_zone(site, "Europe/Paris")
    page = admin.get(f"/admin/sites/{site.site_key}/dashboard").get_data(as_text=True)
    assert "Days are UTC days" in page


def test_the_json_page_sets_and_refuses_zones_too(console_as, make_site):
    site = make_site(published=True)
    marketer = console_as("marketer")
    document = sites.export_site(site)
    url = f"/admin/sites/{site.site_key}/json"
    bad = marketer.post(url, data={"document": json.dumps({**document, "time_zone": "Nowhere"})})
    assert bad.status_code == 400
    assert "time_zone: &#39;Nowhere&#39; is not a time zone name" in bad.get_data(as_text=True)
    good = marketer.post(url, data={"document": json.dumps({**document, "time_zone": "Etc/GMT-3"})})
    assert good.status_code == 302
    assert sites.get_site(site.site_key).time_zone == "Etc/GMT-3"
