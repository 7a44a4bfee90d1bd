"""The OpenAPI document of the public and admin JSON API, generated from the schemas."""

import importlib
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from cmp_server.schemas.consent import (
    ConsentInSchema,
    DeviceHistorySchema,
    ErasureSchema,
    ReceiptSchema,
)
from cmp_server.schemas.error import ErrorSchema
from cmp_server.schemas.site import SiteConfigSchema

SITE_KEY = {"name": "site_key", "in": "path", "required": True, "schema": {"type": "string"}}
# Modules that document their own blueprints' paths.
EXTENSIONS = (
    ("cmp_server.public.proof_openapi", "add_proof_paths"),
    ("cmp_server.admin.openapi", "add_admin_paths"),
)
DEVICE_ID = {
    "name": "device_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def json_body(schema, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_public_paths(spec: APISpec) -> None:
    spec.path(
        path="/api/v1/sites/{site_key}/config",
        parameters=[SITE_KEY],
        operations={
            "get": {
                "summary": "The published banner configuration for this visitor",
                "responses": {
                    "200": {
                        "description": "site_key, revision, revision_hash, regime and config",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": error("nothing published yet"),
                    "403": error("origin not allowed"),
                    "404": error("unknown site"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sites/{site_key}/consents",
        parameters=[SITE_KEY],
        operations={
            "post": {
                "summary": "Record one decision",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": "ConsentIn"},
                        "text/plain": {"schema": "ConsentIn"},
                    },
                },
                "responses": {
                    "201": json_body("Receipt", "the receipt, after the record is committed"),
                    "400": error("invalid decision"),
                    "403": error("origin not allowed"),
                    "404": error("unknown site"),
                    "409": error("consent_id reused with another body"),
                    "413": error("body over 64 KiB"),
                    "415": error("not JSON or text/plain"),
                    "429": error("rate limited"),
                    "503": error("storage unavailable"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sites/{site_key}/devices/{device_id}/consents",
        parameters=[SITE_KEY, DEVICE_ID],
        operations={
            "get": {
                "summary": "The device's own consent history",
                "responses": {
                    "200": json_body("DeviceHistory", "the device's records, oldest first"),
                    "400": error("device_id is not a UUID"),
                    "403": error("origin not allowed"),
                    "404": error("unknown site"),
                },
            },
            "delete": {
                "summary": "Erase the device's records (personal data)",
                "responses": {
                    "200": json_body("Erasure", "how many records were erased"),
                    "400": error("device_id is not a UUID"),
                    "403": error("origin not allowed"),
                    "404": error("unknown site"),
                },
            },
        },
    )
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "summary": "Liveness and database reachability",
                "responses": {
                    "200": {
                        "description": "up",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "503": error("database unreachable"),
                },
            }
        },
    )


@cache
def openapi_document() -> dict:
    spec = APISpec(
        title="Accord API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Consent recording, visitor rights and administration."},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("ConsentIn", schema=ConsentInSchema)
    spec.components.schema("Receipt", schema=ReceiptSchema)
    spec.components.schema("DeviceHistory", schema=DeviceHistorySchema)
    spec.components.schema("Erasure", schema=ErasureSchema)
    spec.components.schema("SiteConfig", schema=SiteConfigSchema)
    add_public_paths(spec)
    for module, function in EXTENSIONS:
        try:
            paths = importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        getattr(paths, function)(spec)
    return spec.to_dict()
