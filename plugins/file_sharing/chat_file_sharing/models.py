"""Attachments: metadata of uploaded files; the bytes live in a storage backend."""

from mongoengine import BooleanField, DateTimeField, Document, IntField, ObjectIdField, StringField

from chat.plugin_api import NO_AUTO_INDEX, utcnow


class Attachment(Document):
    id = StringField(primary_key=True)  # random, unguessable; also the storage key
    room = ObjectIdField()  # a message's file: its room
    avatar_of = ObjectIdField()  # or a user's avatar (any signed-in user may see it)
    uploader = ObjectIdField(required=True)
    message = ObjectIdField()
    name = StringField(required=True, max_length=255)  # display name only, never a path
    size = IntField(required=True)
    content_type = StringField(required=True)
    created_at = DateTimeField(default=utcnow)
    deleted = BooleanField(default=False)

    meta = {"collection": "attachments", **NO_AUTO_INDEX}
