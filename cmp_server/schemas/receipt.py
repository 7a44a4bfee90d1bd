"""A signed receipt, as the consent POST returns it and `POST /api/v1/receipts/verify` takes it.

Unknown fields are kept, not refused: the signature covers every field but `signature`, so a
receipt from a later version with more fields must still reach the verifier intact.
"""

from marshmallow import INCLUDE, Schema, fields, validate

from cmp_server.schemas.consent import MAX_REVISION

HEX64 = validate.Regexp(r"[0-9a-f]{64}\Z", error="a SHA-256 in lowercase hex")
MAX_POSITION = 2**63 - 1  # positions are 64-bit integer columns


class SignedReceiptSchema(Schema):
    """A visitor's signed receipt, sent back to be checked against the published keys."""

    class Meta:
        unknown = INCLUDE

    consent_id = fields.String(required=True, allow_none=True)
    site_key = fields.String(required=True, validate=validate.Length(1, 32))
    position = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_POSITION)
    )
    hash = fields.String(required=True, validate=HEX64)
    revision = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_REVISION)
    )
    received_at = fields.String(required=True)
    expires_at = fields.String(required=True)
    key_id = fields.String(required=True, validate=validate.Regexp(r"[0-9a-f]{16}\Z"))
    signature = fields.String(required=True, validate=validate.Length(1, 200))


class ReceiptVerdictSchema(Schema):
    """The answer of the verification endpoint."""

    valid = fields.Boolean(metadata={"description": "signature good and record in the log"})
    signature = fields.String(metadata={"description": "valid, invalid or unknown_key"})
    record = fields.String(
        metadata={"description": "found, erased, purged, not_in_log, hash_mismatch, unknown_site"}
    )
    message = fields.String()
