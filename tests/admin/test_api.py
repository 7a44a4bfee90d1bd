"""The admin JSON API: same features as the console, the API error shape, never a 500."""

import csv
import io
import json

import pytest

from cmp_server.extensions import db
from cmp_server.models import AuditEvent
from cmp_server.services import tokens
from cmp_server.services.audit import CLI_ACTOR


def test_unknown_or_revoked_tokens_are_401(client, app, make_staff):
    assert (
        client.get("/api/v1/admin/sites", headers={"Authorization": "Bearer acc_nope"}).status_code
        == 401
    )
    user = make_staff("admin")
    token, plain = tokens.create_token(user, "ci")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/admin/sites", headers=headers).status_code == 200
    tokens.revoke_token(token, CLI_ACTOR)
    db.session.commit()
    answer = client.get("/api/v1/admin/sites", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"


def test_tokens_are_stored_hashed_and_every_use_is_audited(client, make_staff):
    user = make_staff("dpo")
    token, plain = tokens.create_token(user, "ci")
    db.session.commit()
    assert plain not in (token.token_hash, token.prefix) and len(token.token_hash) == 64
    client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {plain}"})
    used = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "token.use")).one()
    assert used.actor == user.email and used.via == "api" and used.target == token.prefix
    assert used.details == {"method": "GET", "path": "/api/v1/admin/audit", "status": 200}


def test_config_round_trip(client, api_as, make_site):
    site = make_site(published=True)
    headers = api_as("marketer")
    config = client.get(f"/api/v1/admin/sites/{site.site_key}/config", headers=headers).get_json()
    config["name"] = "Via the API"
    answer = client.put(f"/api/v1/admin/sites/{site.site_key}/config", json=config, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["name"] == "Via the API"
    preview = client.get(f"/api/v1/admin/sites/{site.site_key}/publish", headers=headers)
    body = preview.get_json()
    assert body["publishable"] and body["next_revision"] == 2
    assert {
        "path": "name",
        "kind": "changed",
        "before": "Accord demo",
        "after": "Via the API",
    } in body["changes"]
    published = client.post(
        f"/api/v1/admin/sites/{site.site_key}/publish",
        json={"requires_reconsent": True},
        headers=headers,
    )
    assert published.status_code == 201
    assert published.get_json()["number"] == 2 and published.get_json()["requires_reconsent"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "method,path,body,status,field",
    [
        ("PUT", "/sites/{key}/config", {"name": ""}, 400, "name"),
        ("PUT", "/sites/{key}/config", {"name": "x", "bogus": 1}, 400, "bogus"),
        ("PUT", "/sites/{key}/config", [1, 2], 400, None),
        ("GET", "/sites/{key}/stats?since=nope", None, 400, "since"),
        ("GET", "/sites/{key}/stats?since=2026-02-01&until=2026-01-01", None, 400, "since"),
        ("GET", "/sites/{key}/stats?colour=blue", None, 400, "colour"),
        ("GET", "/sites/{key}/consents?consent_id=not-a-uuid", None, 400, "consent_id"),
        ("GET", "/sites/{key}/consents?page=0", None, 400, "page"),
        ("GET", "/sites/{key}/consents/export?format=xml", None, 400, "format"),
        ("GET", "/sites/{key}/consents/99999", None, 404, None),
        ("GET", "/sites/nope/config", None, 404, None),
        (
            "POST",
            "/sites/{key}/publish",
            {"requires_reconsent": "maybe"},
            400,
            "requires_reconsent",
        ),
        ("PUT", "/sites/{key}/retention", {"retention_days": "ten"}, 400, "retention_days"),
        (
            "POST",
            "/users",
            {"email": "x@example.com", "role": "root", "password": "p" * 12},
            400,
            "role",
        ),
        (
            "POST",
            "/users",
            {"email": "not-an-email", "role": "dpo", "password": "p" * 12},
            400,
            "email",
        ),
        ("PATCH", "/users/99999", {"role": "dpo"}, 404, None),
        ("DELETE", "/tokens/99999", None, 404, None),
        ("GET", "/audit?since=never", None, 400, "since"),
    ],
)
def test_bad_input_is_an_api_error_never_a_500(
    client, api_as, seeded_site, method, path, body, status, field
):
    kwargs = {"json": body} if body is not None else {}
    answer = client.open(
        "/api/v1/admin" + path.format(key=seeded_site.site_key),
        method=method,
        headers=api_as("admin"),
        **kwargs,
    )
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert field in error["fields"]


@pytest.mark.sqlite_only
def test_a_non_json_body_is_415(client, api_as, make_site):
    site = make_site(published=True)
    answer = client.put(
        f"/api/v1/admin/sites/{site.site_key}/config", data="name=x", headers=api_as("admin")
    )
    assert answer.status_code == 415


def test_stats_match_the_seeded_records(client, api_as, seeded_site):
    stats = client.get(
        f"/api/v1/admin/sites/{seeded_site.site_key}/stats", headers=api_as("marketer")
    ).get_json()
    assert stats["total"] == 12
    assert sum(stats["actions"].values()) == 12
    assert sum(d["total"] for d in stats["days"]) == 12
    assert stats["consent_rates"]["categories"]["necessary"]["rate"] == 1.0
    assert sum(stats["breakdowns"]["device_type"].values()) == 12


def test_consent_search_and_record(client, api_as, seeded_site):
    headers = api_as("dpo")
    base = f"/api/v1/admin/sites/{seeded_site.site_key}/consents"
    page = client.get(base + "?per_page=5", headers=headers).get_json()
    assert len(page["records"]) == 5 and page["has_next"]
    wanted = page["records"][2]
    found = client.get(f"{base}?device_id={wanted['device_id']}", headers=headers).get_json()
    assert [r["consent_id"] for r in found["records"]] == [wanted["consent_id"]]
    one = client.get(f"{base}/{wanted['position']}", headers=headers).get_json()
    assert one["verification"]["ok"] and one["revision_seen"]["hash_matches"]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_export_through_the_api_streams_and_is_audited(client, api_as, seeded_site, fmt):
    answer = client.get(
        f"/api/v1/admin/sites/{seeded_site.site_key}/consents/export?format={fmt}",
        headers=api_as("dpo"),
    )
    assert answer.status_code == 200 and answer.is_streamed
    text = answer.get_data(as_text=True)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 12 and rows[0]["consent_id"]
    exported = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "consents.export")
    ).one()
    assert exported.via == "api" and exported.target == fmt


def test_users_and_tokens(client, api_as):
    headers = api_as("admin")
    created = client.post(
        "/api/v1/admin/users",
        json={
            "email": "Dee@Example.com",
            "role": "dpo",
            "password": "a long enough password",
            "site_keys": ["abc"],
        },
        headers=headers,
    )
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "dee@example.com" and "password" not in user
    again = client.post(
        "/api/v1/admin/users",
        json={"email": "dee@example.com", "role": "dpo", "password": "a long enough password"},
        headers=headers,
    )
    assert again.status_code == 409
    patched = client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"site_keys": None}, headers=headers
    )
    assert patched.get_json()["site_keys"] is None
    token = client.post("/api/v1/admin/tokens", json={"name": "deploy"}, headers=headers)
    secret = token.get_json()["token"]
    assert secret.startswith("acc_")
    listed = client.get("/api/v1/admin/tokens", headers=headers).get_json()["tokens"]
    assert all("token" not in t for t in listed)
    revoked = client.delete(f"/api/v1/admin/tokens/{token.get_json()['id']}", headers=headers)
    assert revoked.get_json()["revoked_at"]
    assert (
        client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


@pytest.mark.sqlite_only
def test_a_marketer_cannot_revoke_someone_elses_token(client, api_as, make_staff):
    other = make_staff("dpo", email="other@example.com")
    token, _ = tokens.create_token(other, "theirs")
    db.session.commit()
    answer = client.delete(f"/api/v1/admin/tokens/{token.id}", headers=api_as("marketer"))
    assert answer.status_code == 404


@pytest.mark.sqlite_only
def test_an_admin_cannot_demote_themselves(client, make_staff):
    user = make_staff("admin")
    _, plain = tokens.create_token(user)
    db.session.commit()
    answer = client.patch(
        f"/api/v1/admin/users/{user.id}",
        json={"role": "dpo"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert answer.status_code == 400


def test_token_create_cli_prints_a_working_token_once(app, runner, client, make_staff):
    make_staff("dpo", email="dee@example.com")
    result = runner.invoke(args=["token", "create", "--email", "dee@example.com"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("acc_")
    me = client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.get_json()["role"] == "dpo"
    listing = runner.invoke(args=["token", "list"]).output
    assert secret not in listing and secret[:12] in listing
    unknown = runner.invoke(args=["token", "create", "--email", "nobody@example.com"])
    assert unknown.exit_code != 0
