"""The admin API's OpenAPI document and role table agree with the routes that exist.

The document is written next to the views (cmp_server/admin/openapi.py), so a new route or a
changed capability could go undocumented: every rule under /api/v1/admin must be in the
document with the roles its `requires(...)` capability grants, and the document must describe
nothing that is not routed.
"""

import re

import pytest

from cmp_server import create_app
from cmp_server.admin.access import CAPABILITIES, INSTALLATION_WIDE
from cmp_server.openapi import openapi_document

PREFIX = "/api/v1/admin"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    return create_app(
        {
            "SECRET_KEY": "openapi-test-secret-key",
            "ACCORD_INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'accord.db'}",
        }
    )


def openapi_path(rule: str) -> str:
    """`/sites/<site_key>/x/<int(max=9):position>` -> `/sites/{site_key}/x/{position}`."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def admin_operations(app) -> dict[tuple[str, str], object]:
    """(OpenAPI path, method) -> view function, for every routed admin API operation."""
    operations = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            operations[(openapi_path(rule.rule), method.lower())] = app.view_functions[
                rule.endpoint
            ]
    return operations


def documented_operations(app) -> dict[tuple[str, str], dict]:
    with app.app_context():
        paths = openapi_document()["paths"]
    return {
        (path, method): operation
        for path, item in paths.items()
        if path.startswith(PREFIX + "/")
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    }


def test_the_path_conversion_keeps_parameter_names():
    rule = "/api/v1/admin/sites/<site_key>/consents/<int(max=9223372036854775807):position>"
    assert openapi_path(rule) == "/api/v1/admin/sites/{site_key}/consents/{position}"


def test_the_admin_api_is_documented_as_bearer_token_only(admin_app):
    with admin_app.app_context():
        document = openapi_document()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for key, operation in documented_operations(admin_app).items():
        assert operation["security"] == [{"bearer": []}], key


def test_every_admin_route_is_documented(admin_app):
    missing = sorted(set(admin_operations(admin_app)) - set(documented_operations(admin_app)))
    assert not missing, f"admin API operations missing from the OpenAPI document: {missing}"


def test_the_document_describes_only_routed_operations(admin_app):
    stale = sorted(set(documented_operations(admin_app)) - set(admin_operations(admin_app)))
    assert not stale, f"documented but not routed: {stale}"


def test_every_admin_route_requires_a_capability_of_the_role_table(admin_app):
    unguarded = [
        key
        for key, view in admin_operations(admin_app).items()
        if getattr(view, "capability", None) not in CAPABILITIES
    ]
    assert not unguarded, f"admin API views without requires(<capability>): {unguarded}"


def documented_roles(description: str) -> set[str] | str:
    match = re.match(r"Roles: ([^.]*)\.", description)
    assert match, f"no 'Roles: ….' in {description!r}"
    text = match.group(1)
    if "no site limit" in text:
        return "admin of every site"
    return {role.strip() for role in text.split(",")}


def test_the_documented_roles_are_the_role_tables(admin_app):
    documented = documented_operations(admin_app)
    wrong = []
    for key, view in admin_operations(admin_app).items():
        capability = view.capability
        expected = (
            "admin of every site"
            if capability in INSTALLATION_WIDE
            else set(CAPABILITIES[capability])
        )
        if key in documented and documented_roles(documented[key]["description"]) != expected:
            wrong.append((key, capability, documented[key]["description"]))
    assert not wrong, "documented roles differ from access.CAPABILITIES:\n" + "\n".join(
        map(str, wrong)
    )
