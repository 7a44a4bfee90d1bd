"""The consent POST body, the receipt, and a stored record as the visitor sees it."""

import re
import uuid
from datetime import UTC

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from cmp_server.schemas.site import LANGUAGE, StrictBool
from cmp_server.vocabulary import ACTIONS

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# base64url, at least 22 characters (128 bits and more, DESIGN.md "Device secret").
DEVICE_SECRET = re.compile(r"[A-Za-z0-9_-]{22,128}\Z")
MAX_REVISION = 2**31 - 1  # revisions are 32-bit integer columns


class ConsentInSchema(Schema):
    """One decision, as the browser sends it (DESIGN.md, "The consent POST body")."""

    consent_id = fields.UUID(required=True)
    device_id = fields.UUID(required=True)
    revision = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_REVISION)
    )
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    choices = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=StrictBool(),
        required=True,
        validate=validate.Length(max=100),
    )
    language = fields.String(load_default=None, validate=validate.Regexp(LANGUAGE))
    page_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 4000))
    gpc = StrictBool(load_default=False)
    client_ts = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    # A credential, not part of the decision: load only, never stored, hashed into the
    # record or shown (services/device_secrets.py keeps its SHA-256 apart from the log).
    device_secret = fields.String(
        load_default=None,
        allow_none=True,
        load_only=True,
        validate=validate.Regexp(DEVICE_SECRET, error="must be 22 to 128 base64url characters"),
        metadata={
            "description": "The device's secret, 22 to 128 base64url characters (128 random "
            "bits or more), sent with every consent: the device's first consent that carries "
            "one binds it, later ones must present the same (else 403 "
            "device_secret_mismatch); a device with none bound is recorded without. Never "
            "stored in clear, never in the record, the receipt or an export.",
            "pattern": "^[A-Za-z0-9_-]{22,128}$",
        },
    )

    @validates("client_ts")
    def check_client_ts(self, value, data_key, **kwargs):
        """A time the database can hold once in UTC (year 1 at +14:00 is year 0 in UTC)."""
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                raise ValidationError("out of range once converted to UTC") from None

    @validates("page_url")
    def check_page_url(self, value, data_key, **kwargs):
        if value and not value.startswith(("http://", "https://")):
            raise ValidationError("must be an http(s) URL")
        if value and CONTROL_CHARACTERS.search(value):
            raise ValidationError("must not contain control characters")

    @post_load
    def normalise(self, data, **kwargs):
        data["consent_id"] = str(data["consent_id"])
        data["device_id"] = str(data["device_id"])
        return data


class _Unsure(Exception):
    """The fast check does not vouch for a body: marshmallow decides, and words the errors."""


_OPTIONAL = ("language", "page_url", "gpc", "client_ts", "device_secret")
_FIELDS = frozenset(ConsentInSchema._declared_fields)
_client_ts = ConsentInSchema().fields["client_ts"]


def _uuid(value) -> str:
    if type(value) is not str:
        raise _Unsure
    return str(uuid.UUID(value))  # ValueError: not a UUID


def _check(ok: bool) -> None:
    if not ok:
        raise _Unsure


def load_consent_fast(body: dict) -> dict | None:
    """What `ConsentInSchema().load(body)` returns, for the bodies a browser sends, without
    marshmallow's per-field machinery (the consent POST's hot path); or None, and then the
    schema decides. It never accepts a body the schema refuses and never returns another
    result: tests/public/test_consent_validators.py runs both on a corpus of good and bad
    bodies. The schema stays the contract (the OpenAPI document is generated from it)."""
    if not _FIELDS.issuperset(body):
        return None
    try:
        revision, action, choices = body["revision"], body["action"], body["choices"]
        _check(type(revision) is int and 1 <= revision <= MAX_REVISION)
        _check(type(action) is str and action in ACTIONS)
        _check(type(choices) is dict and len(choices) <= 100)
        for key, value in choices.items():
            _check(type(key) is str and 1 <= len(key) <= 64 and type(value) is bool)
        language, page_url, gpc, client_ts, secret = (body.get(f) for f in _OPTIONAL)
        _check(language is None or (type(language) is str and LANGUAGE.match(language)))
        _check(
            page_url is None
            or type(page_url) is str
            and len(page_url) <= 4000
            and (not page_url or page_url.startswith(("http://", "https://")))
            and not CONTROL_CHARACTERS.search(page_url)
        )
        _check(gpc is None and "gpc" not in body or type(gpc) is bool)
        _check(secret is None or (type(secret) is str and DEVICE_SECRET.match(secret)))
        if client_ts is not None:
            client_ts = _client_ts.deserialize(client_ts)
            client_ts.astimezone(UTC)
        return {
            "consent_id": _uuid(body["consent_id"]),
            "device_id": _uuid(body["device_id"]),
            "revision": revision,
            "action": action,
            "choices": dict(choices),
            "language": language,
            "page_url": page_url,
            "gpc": bool(gpc),
            "client_ts": client_ts,
            "device_secret": secret,
        }
    except (_Unsure, KeyError, ValueError, ValidationError, OverflowError):
        return None


class ReceiptSchema(Schema):
    """What the visitor keeps: enough to find and verify their record later."""

    consent_id = fields.String()
    site_key = fields.String()
    position = fields.Integer()
    hash = fields.String(metadata={"description": "SHA-256 of the record in the site's log"})
    revision = fields.Integer()
    received_at = fields.String()
    expires_at = fields.String()


class ConsentRecordSchema(Schema):
    """A stored decision, as shown to the device it belongs to and to the DPO."""

    consent_id = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    position = fields.Integer()
    revision = fields.Integer()
    revision_hash = fields.String()
    action = fields.String()
    choices = fields.Dict(keys=fields.String(), values=fields.Boolean())
    allowed_kinds = fields.List(fields.String())
    language = fields.String(allow_none=True)
    regime = fields.String()
    page_url = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    browser = fields.String(allow_none=True)
    os = fields.String(allow_none=True)
    device_type = fields.String(allow_none=True)
    ip_truncated = fields.String(allow_none=True)
    gpc = fields.Boolean()
    client_ts = fields.DateTime(allow_none=True)
    received_at = fields.DateTime()
    expires_at = fields.DateTime()
    hash = fields.String(attribute="record_hash")


class DeviceHistorySchema(Schema):
    """A device's own consent history (access and portability)."""

    device_id = fields.String()
    consents = fields.List(fields.Nested(ConsentRecordSchema))


class ErasureSchema(Schema):
    """The answer to an erasure request: how many records were erased."""

    device_id = fields.String()
    erased = fields.Integer(metadata={"description": "how many records were erased"})
