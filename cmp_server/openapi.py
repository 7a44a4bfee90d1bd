"""The OpenAPI document of the public and admin JSON API, generated from the schemas."""

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from cmp_server.admin.openapi import add_admin_paths
from cmp_server.schemas.consent import (
    ConsentInSchema,
    DeviceHistorySchema,
    ErasureSchema,
    ReceiptSchema,
)
from cmp_server.schemas.error import ErrorSchema
from cmp_server.schemas.receipt import ReceiptVerdictSchema, SignedReceiptSchema
from cmp_server.schemas.site import SiteConfigSchema

SITE_KEY = {"name": "site_key", "in": "path", "required": True, "schema": {"type": "string"}}
DEVICE_ID = {
    "name": "device_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
DEVICE_SECRET = {
    "name": "Accord-Device-Secret",
    "in": "header",
    "required": False,
    "description": (
        "The device's secret (22 to 128 base64url characters), the one its first consent "
        "bound. Required once the device has one bound; a device without one (no consent "
        "yet, or recorded before device secrets) is served without it."
    ),
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22,128}$"},
}
DEVICE_REFUSED = (
    "origin not allowed; or `device_secret_mismatch`: the device has a secret bound and the "
    "request did not present it"
)


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
                    "403": error(
                        "origin not allowed; or `device_secret_mismatch`: the device has "
                        "another secret bound, or one is bound and none was sent"
                    ),
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
        parameters=[SITE_KEY, DEVICE_ID, DEVICE_SECRET],
        operations={
            "get": {
                "summary": "The device's own consent history",
                "responses": {
                    "200": json_body("DeviceHistory", "the device's records, oldest first"),
                    "400": error("device_id is not a UUID"),
                    "403": error(DEVICE_REFUSED),
                    "404": error("unknown site"),
                },
            },
            "delete": {
                "summary": "Erase the device's records (personal data) and unbind its secret",
                "responses": {
                    "200": json_body("Erasure", "how many records were erased"),
                    "400": error("device_id is not a UUID"),
                    "403": error(DEVICE_REFUSED),
                    "404": error("unknown site"),
                },
            },
        },
    )
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "summary": "Readiness: the database answers within the health timeout (2 s)",
                "responses": {
                    "200": {
                        "description": "up",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "503": error("the database did not answer in time, or is unreachable"),
                },
            }
        },
    )
    spec.path(
        path="/livez",
        operations={
            "get": {
                "summary": "Liveness: the process serves requests (never touches the database)",
                "responses": {
                    "200": {
                        "description": "alive",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
    )


def add_proof_paths(spec: APISpec) -> None:
    spec.path(
        path="/.well-known/accord-keys.json",
        operations={
            "get": {
                "summary": "The public keys that sign receipts and checkpoints",
                "responses": {
                    "200": {
                        "description": "keys with their ids, algorithm and validity",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sites/{site_key}/checkpoints/latest",
        operations={
            "get": {
                "summary": "The log's latest signed checkpoint with its witness cosignatures",
                "parameters": [
                    {
                        "name": "site_key",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "{checkpoint, cosignatures} (docs/witness.md)",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "404": error("no such site, or no checkpoint yet"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/receipts/verify",
        operations={
            "post": {
                "summary": "Check a receipt's signature and that its record is in the log",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "SignedReceipt"}},
                },
                "responses": {
                    "200": json_body("ReceiptVerdict", "the verdict"),
                    "400": error("not a receipt"),
                    "413": error("body over 64 KiB"),
                    "415": error("not JSON"),
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
    spec.components.schema("SignedReceipt", schema=SignedReceiptSchema)
    spec.components.schema("ReceiptVerdict", schema=ReceiptVerdictSchema)
    add_public_paths(spec)
    add_proof_paths(spec)
    add_admin_paths(spec)
    return spec.to_dict()
