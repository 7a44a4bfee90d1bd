"""OpenAPI description of the admin JSON API, added to the lead's document by
`cmp_server.openapi.openapi_document()` (which calls `add_admin_paths(spec)`)."""

from apispec import APISpec

from cmp_server.schemas import admin as schemas
from cmp_server.schemas.error import ErrorSchema
from cmp_server.schemas.site import SiteConfigSchema, SiteCreateSchema, SiteSummarySchema

PREFIX = "/api/v1/admin"
SITE_KEY = {"name": "site_key", "in": "path", "required": True, "schema": {"type": "string"}}
SECURITY = [{"bearer": []}]

# Nested schemas first, so the composites refer to them instead of registering copies.
COMPONENTS = {
    "AdminProblem": schemas.ProblemSchema,
    "AdminChange": schemas.ChangeSchema,
    "AdminConsentRecord": schemas.ConsentRecordOutSchema,
    "AdminAuditEvent": schemas.AuditEventSchema,
    "AdminSiteSummary": SiteSummarySchema,
    "AdminSiteCreate": SiteCreateSchema,
    "AdminRevision": schemas.RevisionSchema,
    "AdminPublishIn": schemas.PublishInSchema,
    "AdminPublishPreview": schemas.PublishPreviewSchema,
    "AdminRetention": schemas.RetentionSchema,
    "AdminStats": schemas.StatsSchema,
    "AdminConsentPage": schemas.ConsentPageSchema,
    "AdminAuditPage": schemas.AuditPageSchema,
    "AdminUser": schemas.UserSchema,
    "AdminUserCreate": schemas.UserCreateSchema,
    "AdminUserUpdate": schemas.UserUpdateSchema,
    "AdminToken": schemas.TokenSchema,
    "AdminTokenCreate": schemas.TokenCreateSchema,
    "AdminTokenCreated": schemas.TokenCreatedSchema,
}


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _errors(*codes) -> dict:
    text = {
        400: "invalid input (see fields)",
        401: "no valid bearer token",
        403: "the token's role (or its owner's site limit) does not allow this",
        404: "unknown site or resource",
        409: "conflict",
        415: "the body is not JSON",
    }
    return {str(c): {"description": text[c], "content": _json("Error")} for c in codes}


def _op(summary, ok_status, ok_schema, errors, roles, body=None, params=None, content=None):
    operation = {
        "summary": summary,
        "description": f"Roles: {', '.join(roles)}.",
        "security": SECURITY,
        "responses": {
            str(ok_status): {
                "description": "success",
                "content": content or _json(ok_schema or {"type": "object"}),
            },
            **_errors(401, 403, *errors),
        },
    }
    if body:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if params:
        operation["parameters"] = params
    return operation


def _query(schema_cls) -> list[dict]:
    return [{"in": "query", "schema": schema_cls}]


ALL = ("admin", "marketer", "dpo")
EDITORS = ("admin", "marketer")
PROOFS = ("admin", "dpo")
ADMIN = ("admin with no site limit (a site-limited admin gets 403 site_limited)",)


def add_admin_paths(spec: APISpec) -> None:
    if "bearer" not in spec.components.security_schemes:
        spec.components.security_scheme(
            "bearer",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An admin API token (`accord token create`).",
            },
        )
    if "Error" not in spec.components.schemas:
        spec.components.schema("Error", schema=ErrorSchema)
    if "SiteConfig" not in spec.components.schemas:
        spec.components.schema("SiteConfig", schema=SiteConfigSchema)
    for name, schema in COMPONENTS.items():
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)

    site = [SITE_KEY]
    paths = {
        "/me": {"get": _op("The token's owner", 200, "AdminUser", (), ALL)},
        "/metrics": {
            "get": _op(
                "Prometheus metrics: each witness's lag per visible site",
                200,
                None,
                (),
                ALL,
                content={"text/plain": {"schema": {"type": "string"}}},
            )
        },
        "/sites": {
            "get": _op(
                "Sites the token may see",
                200,
                {
                    "type": "object",
                    "properties": {"sites": {"type": "array", "items": "AdminSiteSummary"}},
                },
                (),
                ALL,
            ),
            "post": _op(
                "Create a site", 201, "AdminSiteSummary", (400, 415), ADMIN, body="AdminSiteCreate"
            ),
        },
        "/sites/{site_key}/config": {
            "parameters": site,
            "get": _op("The draft configuration (import format)", 200, "SiteConfig", (404,), ALL),
            "put": _op(
                "Replace the draft; origins, retention_days and time_zone apply at once; a "
                "document without retention_days or time_zone keeps the site's (a different "
                "retention_days without the retention capability: 403 retention_forbidden)",
                200,
                "SiteConfig",
                (400, 404, 415),
                EDITORS,
                body="SiteConfig",
            ),
        },
        "/sites/{site_key}/publish": {
            "parameters": site,
            "get": _op(
                "Diff, re-consent reasons and compliance problems of the draft",
                200,
                "AdminPublishPreview",
                (404,),
                ALL,
            ),
            "post": _op(
                "Publish the draft (refused with 400 not_compliant if a check fails, 409 "
                "nothing_to_publish if it is the published revision)",
                201,
                "AdminRevision",
                (400, 404, 409),
                EDITORS,
                body="AdminPublishIn",
            ),
        },
        "/sites/{site_key}/revisions": {
            "parameters": site,
            "get": _op("Published revisions", 200, {"type": "object"}, (404,), ALL),
        },
        "/sites/{site_key}/retention": {
            "parameters": site,
            "put": _op(
                "Set proof retention and legal hold",
                200,
                "AdminRetention",
                (400, 404, 415),
                PROOFS,
                body="AdminRetention",
            ),
        },
        "/sites/{site_key}/stats": {
            "parameters": site,
            "get": _op(
                "Dashboard figures for a period (default: last 30 days)",
                200,
                "AdminStats",
                (400, 404),
                ALL,
                params=_query(schemas.PeriodQuerySchema),
            ),
        },
        "/sites/{site_key}/consents": {
            "parameters": site,
            "get": _op(
                "Search consent records",
                200,
                "AdminConsentPage",
                (400, 404),
                PROOFS,
                params=_query(schemas.ConsentQuerySchema),
            ),
        },
        "/sites/{site_key}/consents/{position}": {
            "parameters": [
                SITE_KEY,
                {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "get": _op(
                "One record, the revision the visitor saw, and its verification",
                200,
                {"type": "object"},
                (404,),
                PROOFS,
            ),
        },
        "/sites/{site_key}/consents/export": {
            "parameters": site,
            "get": _op(
                "Export records (streamed CSV or NDJSON)",
                200,
                None,
                (400, 404),
                PROOFS,
                params=_query(schemas.ExportQuerySchema),
                content={
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            ),
        },
        "/sites/{site_key}/verify": {
            "parameters": site,
            "post": _op("Verify the site's whole log", 200, {"type": "object"}, (404,), PROOFS),
        },
        "/audit": {
            "get": _op(
                "The audit log (JSON page, or CSV with format=csv)",
                200,
                "AdminAuditPage",
                (400,),
                PROOFS,
                params=_query(schemas.AuditQuerySchema),
                content={
                    **_json("AdminAuditPage"),
                    "text/csv": {"schema": {"type": "string"}},
                },
            ),
        },
        "/users": {
            "get": _op("Staff accounts", 200, {"type": "object"}, (), ADMIN),
            "post": _op(
                "Create a staff account",
                201,
                "AdminUser",
                (400, 409, 415),
                ADMIN,
                body="AdminUserCreate",
            ),
        },
        "/users/{user_id}": {
            "parameters": [
                {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "patch": _op(
                "Change role, site limit, active flag or password",
                200,
                "AdminUser",
                (400, 404, 415),
                ADMIN,
                body="AdminUserUpdate",
            ),
        },
        "/keys": {"get": _op("Proof signing keys", 200, {"type": "object"}, (), ADMIN)},
        "/keys/rotate": {
            "post": _op(
                "Retire the signing key and make a new one", 201, {"type": "object"}, (), ADMIN
            ),
        },
        "/tokens": {
            "get": _op(
                "API tokens (yours; an admin with no site limit sees all)",
                200,
                {"type": "object"},
                (),
                ALL,
            ),
            "post": _op(
                "Create a token (its secret is in this answer only)",
                201,
                "AdminTokenCreated",
                (400,),
                ALL,
                body="AdminTokenCreate",
            ),
        },
        "/tokens/{token_id}": {
            "parameters": [
                {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "delete": _op("Revoke a token", 200, "AdminToken", (404,), ALL),
        },
    }
    from cmp_server.admin.scans_api import add_scan_paths

    paths.update(add_scan_paths(spec, _op, SITE_KEY))
    for path, item in paths.items():
        parameters = item.pop("parameters", None)
        spec.path(path=PREFIX + path, operations=item, parameters=parameters)
