"""Stored notifications and per-user notification preferences."""

from mongoengine import BooleanField, DateTimeField, Document, ListField, ObjectIdField, StringField

from chat.plugin_api import NO_AUTO_INDEX, utcnow

TYPES = ("mention", "direct_message", "thread_reply")


class Notification(Document):
    user = ObjectIdField(required=True)  # who is notified
    type = StringField(required=True, choices=TYPES)
    room = ObjectIdField(required=True)
    message = ObjectIdField(required=True)
    actor = ObjectIdField(required=True)  # who caused it
    created_at = DateTimeField(default=utcnow)
    read = BooleanField(default=False)

    meta = {"collection": "notifications", **NO_AUTO_INDEX}


class NotificationPrefs(Document):
    user = ObjectIdField(primary_key=True)
    muted_rooms = ListField(ObjectIdField())
    email = BooleanField(default=True)

    meta = {"collection": "notification_prefs", **NO_AUTO_INDEX}
