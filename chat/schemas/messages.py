"""Message request and response bodies."""

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

from chat.models.message import MESSAGE_TYPES
from chat.schemas.base import (
    EventSchema,
    ObjectIdField,
    OutSchema,
    Schema,
    StrictBoolean,
    Text,
)

# The configured MESSAGE_MAX_LENGTH is enforced by the service; this is a hard ceiling.
CONTENT = validate.Length(max=100_000)
CLIENT_ID = validate.Regexp(r"^[\x21-\x7e]{1,64}$", error="1 to 64 printable ASCII characters.")


class Reply:
    """The fields of a send that make it a reply (schema mixin)."""

    parent_id = ObjectIdField(data_key="parentId", load_default=None)
    also_in_room = StrictBoolean(
        data_key="alsoInRoom",
        load_default=False,
        metadata={"description": "A reply shown in the room's history too (top-level: always)."},
    )


class MessageIn(Reply, Schema):
    room_id = ObjectIdField(data_key="roomId", required=True)
    content = Text(required=True, validate=CONTENT)
    message_type = Text(
        data_key="messageType", load_default="text", validate=validate.OneOf(MESSAGE_TYPES)
    )
    client_id = Text(data_key="clientId", load_default=None, allow_none=False, validate=CLIENT_ID)
    quoted_message_id = ObjectIdField(data_key="quotedMessageId", load_default=None)


class MessageEditIn(Schema):
    content = Text(required=True, validate=CONTENT)


class HistoryQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    before = ObjectIdField()
    after = ObjectIdField()


class SenderOut(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    bot = fields.Boolean(metadata={"description": "Present (true) when a bot sent it."})
    displayName = fields.String(
        metadata={"description": "A webhook delivery's `username`, shown for its bot."}
    )


class QuoteOut(Schema):
    id = fields.String(required=True)
    sender = fields.Nested(SenderOut, allow_none=True, required=True)
    content = fields.String(required=True, metadata={"description": "Its first 200 characters."})
    deleted = fields.Boolean(required=True)


class PinOut(Schema):
    by = fields.String(required=True)
    at = fields.String(required=True)


class ThreadOut(Schema):
    replyCount = fields.Integer(required=True, metadata={"description": "Live replies."})
    lastReplyAt = fields.String(required=True, allow_none=True)
    participants = fields.List(
        fields.String(), required=True, metadata={"description": "Who replied (user ids)."}
    )


class ThreadsQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
    cursor = Text(load_default=None, validate=validate.Length(min=1, max=200))


class VersionOut(Schema):
    content = fields.String(required=True)
    editedAt = fields.String(required=True, metadata={"description": "When it was written."})


class HistoryOut(OutSchema):
    versions = fields.List(fields.Nested(VersionOut), required=True)


class PinsOut(OutSchema):
    messages = fields.List(fields.Nested("MessageOut"), required=True)


class MessageOut(OutSchema):
    id = fields.String(required=True)
    roomId = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={"description": "Per-room, strictly increasing."})
    sender = fields.Nested(SenderOut, required=True)
    content = fields.String(required=True)
    messageType = fields.String(
        required=True,
        metadata={"description": "`text`, `image`, `file`, or a type a plugin declares "
                  "(its `message_types` hook: a poll)"},
    )  # fmt: skip
    timestamp = fields.String(required=True)
    edited = fields.Boolean(required=True)
    editedAt = fields.String()
    clientId = fields.String()
    mentions = fields.List(fields.String(), required=True)
    deleted = fields.Boolean()
    deletedAt = fields.String()
    pinned = fields.Nested(PinOut, metadata={"description": "Set while the message is pinned."})
    quoted = fields.Nested(QuoteOut, metadata={"description": "The message it quotes, now."})
    parentId = fields.String(metadata={"description": "A reply: its thread's message."})
    alsoInRoom = fields.Boolean(metadata={"description": "A reply also shown in the room."})
    thread = fields.Nested(ThreadOut, metadata={"description": "A thread's summary."})
    command = fields.String(
        metadata={"description": "The slash command that posted it (`me`), when one did."}
    )


class MessageListOut(OutSchema):
    messages = fields.List(fields.Nested(MessageOut), required=True)
    hasMore = fields.Boolean(required=True)


class ThreadItemOut(Schema):
    roomId = fields.String(required=True)
    message = fields.Nested(MessageOut, required=True)
    unreadCount = fields.Integer(required=True, metadata={"description": "Others' replies."})


class ThreadsOut(OutSchema):
    threads = fields.List(fields.Nested(ThreadItemOut), required=True)
    nextCursor = fields.String(required=True, allow_none=True)


class SendMessageEvent(Reply, EventSchema):
    """socket send_message: {roomId, message | content, messageType?, clientId?}."""

    room_id = ObjectIdField(data_key="roomId", required=True)
    message = Text(validate=CONTENT)
    content = Text(validate=CONTENT)
    message_type = Text(
        data_key="messageType", load_default="text", validate=validate.OneOf(MESSAGE_TYPES)
    )
    client_id = Text(data_key="clientId", load_default=None, allow_none=False, validate=CLIENT_ID)
    quoted_message_id = ObjectIdField(data_key="quotedMessageId", load_default=None)
    timestamp = fields.Raw(load_only=True, metadata={"description": "Ignored: the server sets it."})

    @ma.post_load
    def _content(self, data, **kwargs):
        data.pop("timestamp", None)
        if ("message" in data) == ("content" in data):
            raise ma.ValidationError("Give either message or content.", "content")
        data["content"] = data.pop("message") if "message" in data else data["content"]
        return data


class SyncEvent(EventSchema):
    """socket sync: {roomId, after?, limit?}: messages after `after`, oldest first."""

    room_id = ObjectIdField(data_key="roomId", required=True)
    after = ObjectIdField(load_default=None)
    limit = fields.Integer(load_default=100, strict=True, validate=validate.Range(min=1, max=100))


class EditMessageEvent(EventSchema):
    message_id = ObjectIdField(data_key="messageId", required=True)
    content = Text(required=True, validate=CONTENT)


class MessageRefEvent(EventSchema):
    message_id = ObjectIdField(data_key="messageId", required=True)


class SearchQuery(Schema):
    q = Text(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": 'Words (all must match), "quoted phrases" and prefix* (2+ letters); '
        "case- and accent-insensitive."})  # fmt: skip
    room_id = ObjectIdField(data_key="roomId", load_default=None)
    sender = ObjectIdField(
        data_key="from", load_default=None, metadata={"description": "A user id."}
    )
    before = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    after = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
    cursor = ObjectIdField(load_default=None, metadata={"description": "nextCursor of a page."})


class RoomRefOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class SearchHitOut(MessageOut):
    room = fields.Nested(RoomRefOut, required=True)


class SearchOut(OutSchema):
    messages = fields.List(fields.Nested(SearchHitOut), required=True)
    nextCursor = fields.String(required=True, allow_none=True)


class CommandReplyOut(OutSchema):
    command = fields.String(required=True, metadata={"description": "The command that ran."})
    text = fields.String(required=True, metadata={"description": "Its answer, for you alone."})


class CommandOut(OutSchema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    usage = fields.String(required=True)


class CommandsOut(OutSchema):
    commands = fields.List(fields.Nested(CommandOut), required=True)
