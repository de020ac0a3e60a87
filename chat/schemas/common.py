"""Shared marshmallow pieces: the error envelope, id fields, camelCase base schemas."""

import re

import marshmallow as ma
from marshmallow import fields, validate

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (mass-assignment guard)."""

    class Meta:
        unknown = ma.RAISE


class ObjectIdField(fields.String):
    """A 24-hex-digit id string; anything else is a validation error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Regexp(OBJECT_ID, error="Not a valid id."))
        super().__init__(**kwargs)


class ErrorObjectSchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String())
    )
    retryAfter = fields.Integer()


class ErrorEnvelopeSchema(Schema):
    """Every REST error: {"error": {code, message, fields?}}."""

    error = fields.Nested(ErrorObjectSchema, required=True)


class PageQuerySchema(Schema):
    """`?limit=&cursor=` for cursor-paginated lists."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = ObjectIdField(load_default=None)


class OutSchema(Schema):
    """Response schema for documentation: the service serializer already shaped the data.

    Dumping returns the serializer's dict untouched, so fields added by plugins
    reach clients and there is exactly one serializer per resource.
    """

    def dump(self, obj, *, many=None):
        return obj


def stripped(value):
    return value.strip() if isinstance(value, str) else value


class StrictBoolean(fields.Boolean):
    """JSON true/false only ("yes", 1 and "true" are refused)."""

    def __init__(self, **kwargs):
        super().__init__(truthy={True}, falsy={False}, **kwargs)
