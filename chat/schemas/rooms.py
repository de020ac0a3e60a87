"""Room request and response bodies."""

import marshmallow as ma
from marshmallow import fields, validate

from chat.schemas.base import (
    EventSchema,
    ObjectIdField,
    OutSchema,
    Schema,
    StrictBoolean,
    Text,
)

# Characters a name may not hold (Text refuses lone surrogates): controls, and the
# invisible ones that make two names look alike or reorder what follows them (soft
# hyphen, zero-width spaces and joiners, bidi marks, overrides and isolates, BOM). The
# pattern stays in the BMP, so every regex engine that reads the document accepts it.
INVISIBLE = (
    "\\x00-\\x1f\\x7f-\\x9f\\xad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e"
    "\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb"
)
NAME = [
    validate.Length(min=1, max=100),
    # something visible after any leading spaces, and nothing invisible (the same
    # meaning in Python and in the JSON Schema pattern clients and fuzzers read)
    validate.Regexp(
        f"^ *[^ {INVISIBLE}][^{INVISIBLE}]*$",
        error="Name cannot be blank or contain control or invisible characters.",
    ),
]
DESCRIPTION = validate.Length(max=1000)


class RoomSettingsIn(Schema):
    is_private = StrictBoolean(data_key="isPrivate")
    max_participants = fields.Integer(
        data_key="maxParticipants", strict=True, validate=validate.Range(min=2, max=10000)
    )
    allow_file_sharing = StrictBoolean(data_key="allowFileSharing")
    members_can_pin = StrictBoolean(data_key="membersCanPin")
    slow_mode_seconds = fields.Integer(
        data_key="slowModeSeconds", strict=True, validate=validate.Range(min=0, max=21600)
    )
    retention_days = fields.Integer(
        data_key="retentionDays", strict=True, validate=validate.Range(min=0, max=36500)
    )


class RoomUpdateIn(Schema):
    name = Text(validate=NAME)
    description = Text(validate=DESCRIPTION)
    settings = fields.Nested(RoomSettingsIn)

    @ma.post_load
    def _strip_name(self, data, **kwargs):
        if "name" in data:
            data["name"] = data["name"].strip(" ")
        return data


class RoomCreateIn(RoomUpdateIn):
    name = Text(required=True, validate=NAME)


class UserIdIn(Schema):
    userId = ObjectIdField(required=True)


class ReadIn(Schema):
    messageId = ObjectIdField(required=True)


class RoomSettingsOut(Schema):
    isPrivate = fields.Boolean(required=True)
    maxParticipants = fields.Integer(required=True)
    allowFileSharing = fields.Boolean(required=True)
    membersCanPin = fields.Boolean(required=True)
    retentionDays = fields.Integer(
        required=True,
        metadata={
            "description": "0: the server's MESSAGE_RETENTION_DAYS. Else messages "
            "older than this many days are purged to tombstones."
        },
    )
    slowModeSeconds = fields.Integer(
        required=True,
        metadata={
            "description": "0: off. Members other than admins send at "
            "most one message per this many seconds."
        },
    )


class RoomOut(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": ["public", "private", "direct"]})
    participants = fields.List(fields.String(), required=True)
    admins = fields.List(fields.String(), required=True)
    owners = fields.List(fields.String(), required=True)
    settings = fields.Nested(RoomSettingsOut, required=True)
    createdAt = fields.String(required=True)
    lastActivity = fields.String(required=True)
    unreadCount = fields.Integer(metadata={"description": "Only in lists, for your rooms."})


class RoomListOut(OutSchema):
    rooms = fields.List(fields.Nested(RoomOut))
    nextCursor = fields.String(allow_none=True)


class ReadOut(OutSchema):
    unreadCount = fields.Integer(required=True)


class MarkReadEvent(EventSchema):
    """socket mark_read: {roomId, messageId}."""

    room_id = ObjectIdField(data_key="roomId", required=True)
    message_id = ObjectIdField(data_key="messageId", required=True)
