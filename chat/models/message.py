"""Messages: per-room `seq`, idempotency by clientId, soft deletes keep a tombstone."""

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from chat.models.base import NO_AUTO_INDEX, utcnow

MESSAGE_TYPES = ("text", "image", "file")  # the core's; plugins add theirs (message_types)


class Message(Document):
    room = ObjectIdField(required=True)
    seq = IntField(required=True)  # unique per room, strictly increasing
    sender = ObjectIdField(required=True)
    sender_name = StringField(required=True)
    sender_bot = BooleanField()  # True for a bot's messages (absent otherwise)
    content = StringField(default="")
    message_type = StringField(default="text")  # MESSAGE_TYPES or a plugin's
    timestamp = DateTimeField(default=utcnow)
    client_id = StringField()  # unique per (room, sender) when present
    mentions = ListField(ObjectIdField())
    terms = ListField(StringField())  # what search finds it by (services/search)
    edited = BooleanField(default=False)
    edited_at = DateTimeField()
    deleted = BooleanField(default=False)
    deleted_at = DateTimeField()
    data = DictField()  # plugin-owned fields (attachments, reactions, ...), by plugin
    quoted_id = ObjectIdField()  # a message of the same room this one quotes
    pinned_by = ObjectIdField()
    pinned_at = DateTimeField()
    history = ListField(DictField())  # earlier versions {content, edited_at}, oldest first
    # a reply: its thread's top-level message; thread_only unless sent with alsoInRoom
    parent_id = ObjectIdField()
    thread_only = BooleanField()
    # a thread's top-level message: its summary (services/threads), counted at version
    # `thread_counted` of the requests `thread_v` (the newest count wins)
    reply_count = IntField()
    last_reply_at = DateTimeField()
    thread_participants = ListField(ObjectIdField())
    thread_v = IntField()
    thread_counted = IntField()

    meta = {"collection": "messages", **NO_AUTO_INDEX}


class ThreadState(Document):
    """A user's part in a thread: they wrote in it or were mentioned in it. `seq` is how
    far they have read its replies; `last_reply_at` orders their thread list."""

    user = ObjectIdField(required=True)
    parent = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    seq = IntField(default=0)
    last_reply_at = DateTimeField()

    meta = {"collection": "thread_states", **NO_AUTO_INDEX}
