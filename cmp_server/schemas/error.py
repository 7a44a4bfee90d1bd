"""The one error shape of the API."""

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", metadata={"description": "field -> problems"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
