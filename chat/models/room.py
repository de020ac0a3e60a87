"""Rooms (public, private, direct), their members and roles, and read pointers."""

from mongoengine import (
    BooleanField,
    DateTimeField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from chat.models.base import NO_AUTO_INDEX, utcnow

ROOM_TYPES = ("public", "private", "direct")


class RoomSettings(EmbeddedDocument):
    is_private = BooleanField(default=False)
    max_participants = IntField(default=1000)
    allow_file_sharing = BooleanField(default=True)


class Room(Document):
    """Roles: `owners` are also `admins`; every admin is a participant."""

    name = StringField(required=True, max_length=100)
    description = StringField(default="", max_length=1000)
    type = StringField(required=True, choices=ROOM_TYPES, default="public")
    participants = ListField(ObjectIdField())
    admins = ListField(ObjectIdField())
    owners = ListField(ObjectIdField())
    banned = ListField(ObjectIdField())
    settings = EmbeddedDocumentField(RoomSettings, default=RoomSettings)
    direct_key = StringField()  # "<smaller id>:<larger id>" for direct rooms, unique
    created_by = ObjectIdField()
    created_at = DateTimeField(default=utcnow)
    last_activity = DateTimeField(default=utcnow)
    last_seq = IntField(default=0)  # newest stored message seq (a lower bound; see messages)

    meta = {"collection": "rooms", **NO_AUTO_INDEX}


class ReadState(Document):
    """How far a user has read in a room (the `seq` of the last read message)."""

    user = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    seq = IntField(default=0)
    updated_at = DateTimeField(default=utcnow)

    meta = {"collection": "read_states", **NO_AUTO_INDEX}
