"""Rooms (public, private, direct), their members and roles, and read pointers."""

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
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
    members_can_pin = BooleanField(default=False)  # else only admins pin
    slow_mode_seconds = IntField(default=0)  # members (not admins) send once per N seconds
    retention_days = IntField(default=0)  # 0: MESSAGE_RETENTION_DAYS (services/retention)


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
    # Complete sync (store/changelog.py): the newest change's rev, and the changes not
    # archived yet; log[i] has rev log_base + i.
    rev = IntField(default=0)
    log_base = IntField(default=1)
    log = ListField(DictField())
    log_since = DateTimeField()  # when the oldest entry of the log was made

    meta = {"collection": "rooms", **NO_AUTO_INDEX}


class ReadState(Document):
    """How far a user has read in a room (the `seq` of the last read message)."""

    user = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    seq = IntField(default=0)
    updated_at = DateTimeField(default=utcnow)

    meta = {"collection": "read_states", **NO_AUTO_INDEX}
