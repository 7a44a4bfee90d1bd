"""The admin JSON API (/api/v1/admin/): the console's features for scripts, by bearer token.

Same capabilities as the console (access.CAPABILITIES), same services, same audit log
(channel "api"). Errors use the API's one shape; query strings and bodies go through the
schemas in cmp_server/schemas/admin.py, so bad input is a 400 naming the field.
"""

from datetime import UTC

from flask import request

from cmp_server.admin.access import (
    acting,
    audit_scope,
    can,
    record,
    requires,
    site_for,
    staff,
    visible_sites,
)
from cmp_server.admin.blueprint import api_bp
from cmp_server.admin.people import audit_csv_response
from cmp_server.admin.proofs import export_response
from cmp_server.extensions import db
from cmp_server.schemas import admin as schemas
from cmp_server.schemas.site import SiteCreateSchema, SiteSummarySchema
from cmp_server.services import (
    audit,
    publishing,
    records,
    revisions,
    sites,
    stats,
    tokens,
    verification,
)
from cmp_server.services import staff as staff_service
from cmp_server.services.errors import InvalidInput, UnsupportedMediaType

site_summary = SiteSummarySchema()
revision_out = schemas.RevisionSchema()
user_out = schemas.UserSchema()
token_out = schemas.TokenSchema()


def json_body() -> dict:
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("The body must be one JSON object.")
    return data


def query(schema) -> dict:
    return schema.load(request.args.to_dict())


def aware(moment):
    """Times without a zone in a query string are UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def summary(site) -> dict:
    revision = revisions.published_revision(site)
    return site_summary.dump(
        {
            "site_key": site.site_key,
            "name": site.name,
            "origins": site.origins,
            "published_revision": revision.number if revision else None,
            "created_at": site.created_at,
        }
    )


@api_bp.get("/me")
@requires("own_tokens")
def me():
    return user_out.dump(staff())


@api_bp.get("/sites")
@requires("view_sites")
def site_list():
    return {"sites": [summary(site) for site in visible_sites()]}


@api_bp.post("/sites")
@requires("create_site")
def site_create():
    data = SiteCreateSchema().load(json_body())
    site = sites.create_site(data["name"], data["origins"], acting())
    db.session.commit()
    return summary(site), 201


@api_bp.get("/sites/<site_key>/config")
@requires("view_sites")
def config_get(site_key):
    return sites.export_site(site_for(site_key))


@api_bp.put("/sites/<site_key>/config")
@requires("edit_config")
def config_put(site_key):
    site = site_for(site_key)
    sites.save_draft(site, json_body(), acting(), can(staff(), "retention"), "api")
    db.session.commit()
    return sites.export_site(site)


@api_bp.get("/sites/<site_key>/publish")
@requires("view_sites")
def publish_preview(site_key):
    """The diff against the published revision, re-consent reasons and compliance problems."""
    return publishing.preview(site_for(site_key)).as_dict()


@api_bp.post("/sites/<site_key>/publish")
@requires("publish")
def publish_post(site_key):
    site = site_for(site_key)
    data = schemas.PublishInSchema().load(request.get_json(silent=True) or {})
    revision = publishing.publish(site, data["requires_reconsent"], acting())
    db.session.commit()
    return revision_out.dump(revision), 201


@api_bp.get("/sites/<site_key>/revisions")
@requires("view_sites")
def revision_list(site_key):
    site = site_for(site_key)
    return {"revisions": [revision_out.dump(r) for r in site.revisions]}


@api_bp.put("/sites/<site_key>/retention")
@requires("retention")
def retention_put(site_key):
    site = site_for(site_key)
    data = schemas.RetentionSchema().load(json_body())
    sites.set_retention(site, data["retention_days"], data["legal_hold"], acting())
    db.session.commit()
    return data


@api_bp.get("/sites/<site_key>/stats")
@requires("dashboard")
def site_stats(site_key):
    site = site_for(site_key)
    period = query(schemas.PeriodQuerySchema())
    return stats.dashboard(site, period["since"], period["until"]).as_dict()


@api_bp.get("/sites/<site_key>/consents")
@requires("proofs")
def consent_search(site_key):
    site = site_for(site_key)
    q = query(schemas.ConsentQuerySchema())
    rows, has_next = records.search_records(
        site,
        consent_id=str(q["consent_id"]) if q["consent_id"] else None,
        device_id=str(q["device_id"]) if q["device_id"] else None,
        since=aware(q["since"]),
        until=aware(q["until"]),
        page=q["page"],
        per_page=q["per_page"],
    )
    return {
        "page": q["page"],
        "has_next": has_next,
        "records": [records.record_dict(r) for r in rows],
    }


@api_bp.get("/sites/<site_key>/consents/<int(max=9223372036854775807):position>")
@requires("proofs")
def consent_get(site_key, position):
    site = site_for(site_key)
    consent = records.get_record(site, position)
    return {
        "record": records.record_dict(consent),
        "revision_seen": records.revision_seen(site, consent),
        "verification": verification.verify_record(site, consent),
    }


@api_bp.get("/sites/<site_key>/consents/export")
@requires("proofs")
def consent_export(site_key):
    site = site_for(site_key)
    q = query(schemas.ExportQuerySchema())
    return export_response(site, q["format"], aware(q["since"]), aware(q["until"]))


@api_bp.post("/sites/<site_key>/verify")
@requires("verify")
def site_verify(site_key):
    site = site_for(site_key)
    result = verification.verify_site(site)
    record("proofs.verify", site_key=site.site_key, details=dict(result))
    db.session.commit()
    return result


@api_bp.get("/audit")
@requires("audit")
def audit_list():
    q = query(schemas.AuditQuerySchema())
    criteria = audit.AuditFilter(
        actor=q["actor"],
        action=q["action"],
        site_key=q["site"],
        since=aware(q["since"]),
        until=aware(q["until"]),
        site_keys=audit_scope(),
    )
    if q["format"] == "csv":
        return audit_csv_response(criteria, request.args.to_dict())
    events, has_next = audit.list_events(criteria, page=q["page"])
    return {"page": q["page"], "has_next": has_next, "events": [audit.event_row(e) for e in events]}


@api_bp.get("/users")
@requires("staff")
def user_list():
    return {"users": [user_out.dump(u) for u in staff_service.list_users()]}


@api_bp.post("/users")
@requires("staff")
def user_create():
    data = schemas.UserCreateSchema().load(json_body())
    user = staff_service.add_user(
        data["email"],
        data["role"],
        data["password"],
        data["site_keys"],
        by=staff(),
        actor=acting(),
    )
    db.session.commit()
    return user_out.dump(user), 201


@api_bp.patch("/users/<int(max=2147483647):user_id>")
@requires("staff")
def user_update(user_id):
    user = staff_service.get_user(user_id)
    data = schemas.UserUpdateSchema().load(json_body())
    staff_service.edit_user(
        user,
        data.get("role"),
        data.get("site_keys", False),  # False: leave the site limit as it is
        data.get("active"),
        data.get("password"),
        by=staff(),
        actor=acting(),
    )
    db.session.commit()
    return user_out.dump(user)


@api_bp.get("/tokens")
@requires("own_tokens")
def token_list():
    rows = tokens.list_tokens(None if can(staff(), "all_tokens") else staff())
    return {"tokens": [token_out.dump(t) for t in rows]}


@api_bp.post("/tokens")
@requires("own_tokens")
def token_create():
    data = schemas.TokenCreateSchema().load(request.get_json(silent=True) or {})
    token, plain = tokens.issue_token(staff(), data["name"], data["expires_in_days"], acting())
    db.session.commit()
    return {**token_out.dump(token), "token": plain}, 201


@api_bp.delete("/tokens/<int(max=2147483647):token_id>")
@requires("own_tokens")
def token_revoke(token_id):
    token = tokens.manageable_token(token_id, staff(), can(staff(), "all_tokens"))
    tokens.revoke_token(token, acting())
    db.session.commit()
    return token_out.dump(token)
