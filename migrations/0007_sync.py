"""Complete sync (chat/store/changelog.py): the archived changes, unique per room and
rev and read in rev order; rooms with log entries waiting to be archived; cursors by
age."""

from pymongo import ASCENDING


def upgrade(db) -> None:
    db.changes.create_index([("room", ASCENDING), ("rev", ASCENDING)], unique=True, name="room_rev")
    db.changes.create_index([("at", ASCENDING)], name="at")  # retention
    db.rooms.create_index([("log_since", ASCENDING)], name="log_since", sparse=True)
    db.sync_cursors.create_index([("created_at", ASCENDING)], name="created_at")
