"""Shared marshmallow pieces: the error envelope, id fields, camelCase base schemas."""

import re

import marshmallow as ma
from marshmallow import fields, validate

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and surrogates JSON lets through alone
# The rule as a JSON Schema pattern: NUL only, as the engines that read the document
# (Rust's regex, ECMAScript's) cannot even name a lone surrogate.
STORABLE = r"^[^\x00]*$"


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (mass-assignment guard)."""

    class Meta:
        unknown = ma.RAISE


class Text(fields.String):
    """The string field of every input schema: JSON can carry a lone surrogate
    ("\\udc00") that no UTF-8 encoder (BSON, a socket frame) accepts, and NUL ends
    strings in C code and in logs. Both are refused here, where the error names the field.
    """

    default_error_messages = {"unstorable": "Text cannot contain NUL or unpaired surrogates."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not any(isinstance(getattr(v, "regex", None), re.Pattern) for v in self.validators):
            # the document states the rule (a field's own pattern must exclude NUL too)
            error = self.error_messages["unstorable"]
            self.validators.append(validate.Regexp(STORABLE, error=error))

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if UNSTORABLE.search(text):
            raise self.make_error("unstorable")
        return text


class Email(fields.Email, Text):
    """An email address, with Text's rules."""


class ObjectIdField(Text):
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
    reach clients and there is exactly one serializer per resource (the document
    allows such additional properties).
    """

    class Meta:
        unknown = ma.INCLUDE

    def dump(self, obj, *, many=None):
        return obj


class StrictBoolean(fields.Boolean):
    """JSON true/false only ("yes", 1 and "true" are refused)."""

    def __init__(self, **kwargs):
        super().__init__(truthy={True}, falsy={False}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 1 == True in Python's sets
            raise self.make_error("invalid", input=value)
        return value


class EventSchema(Schema):
    """Base for socket event payloads. A `userId` a client sends is accepted and
    ignored: identity comes from the token (the product brief's payloads carry one).
    """

    userId = fields.Raw(load_only=True)

    @ma.post_load
    def _drop_user_id(self, data, **kwargs):
        data.pop("userId", None)
        return data


class RoomEvent(EventSchema):
    """join_room, leave_room, typing_start, typing_stop: {roomId}."""

    room_id = ObjectIdField(data_key="roomId", required=True)
