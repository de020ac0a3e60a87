"""Indexes of the built-in plugins' collections (attachments, notifications)."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.attachments.create_index([("message", ASCENDING)], name="message")
    db.notifications.create_index(
        [("user", ASCENDING), ("created_at", DESCENDING)], name="user_time"
    )
    db.notifications.create_index([("user", ASCENDING), ("read", ASCENDING)], name="user_unread")
    db.notification_prefs.create_index([("muted_rooms", ASCENDING)], name="muted_rooms")
