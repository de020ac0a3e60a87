"""Complete sync: GET /api/sync and socket sync_all."""

from marshmallow import fields, validate

from chat.schemas.base import EventSchema, OutSchema, Schema, Text

CURSOR = [
    validate.Length(min=1, max=64),
    validate.Regexp(r"^[0-9a-f]{1,16}\.[A-Za-z0-9_-]{1,40}$", error="Not a cursor."),
]
TYPES = [  # the core's; plugins add kinds of message change (services/sync)
    "message_created",
    "message_updated",
    "message_deleted",
    "message_pinned",
    "thread_updated",
    "member_joined",
    "member_left",
    "room_updated",
    "role_changed",
    "read_updated",
    "room_added",
    "room_removed",
]


class SyncQuery(Schema):
    since = Text(load_default=None, validate=CURSOR, metadata={"description": "A cursor."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class SyncAllEvent(EventSchema):
    """socket sync_all: {since?, limit?}."""

    since = Text(load_default=None, validate=CURSOR)
    limit = fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1, max=500))


class ChangeOut(Schema):
    roomId = fields.String(required=True)
    rev = fields.Integer(required=True, metadata={"description": "Per room, increasing."})
    type = fields.String(
        required=True,
        metadata={
            "description": f"One of the core's ({', '.join(TYPES)}), or a kind of message "
            "change a plugin declares (the reactions plugin's `reaction_updated`): its "
            "data is then `{message}`."
        },
    )
    at = fields.String(required=True)
    data = fields.Dict(
        required=True,
        metadata={
            "description": "The changed object's current state: {message} for message "
            "changes (thread_updated: the thread's top-level message); {room, userId?, "
            "user?} for members, roles and the room; a receipt {userId, "
            "lastReadMessageId, lastReadSeq, at}; {room} for room_added; {} for "
            "room_removed."
        },
    )


class SyncOut(OutSchema):
    changes = fields.List(fields.Nested(ChangeOut), required=True)
    cursor = fields.String(required=True, metadata={"description": "Pass it as `since`."})
    hasMore = fields.Boolean(required=True)
