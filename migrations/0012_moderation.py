"""Reports (one per reporter and message; a room's open ones, newest first) and the
audit log (newest first, by room)."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.reports.create_index(
        [("message", ASCENDING), ("reporter", ASCENDING)], name="one_per_reporter", unique=True
    )
    db.reports.create_index([("room", ASCENDING), ("_id", DESCENDING)], name="room_reports")
    db.reports.create_index([("status", ASCENDING), ("_id", DESCENDING)], name="open_reports")
    db.audit.create_index([("room", ASCENDING), ("_id", DESCENDING)], name="room_audit")
