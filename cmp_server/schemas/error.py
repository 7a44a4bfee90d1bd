"""The one error shape of the API."""

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    """The inside of an error answer: a code for programs, a message for people, fields."""

    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", metadata={"description": "field -> problems"})


class ErrorSchema(Schema):
    """Every API error answer: `{"error": {"code", "message", "fields"}}`."""

    error = fields.Nested(ErrorBodySchema, required=True)
