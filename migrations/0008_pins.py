"""A room's pins, newest first, without reading its messages: a partial index (only
pinned messages have `pinned_at`)."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.messages.create_index(
        [("room", ASCENDING), ("pinned_at", DESCENDING)],
        name="room_pins",
        partialFilterExpression={"pinned_at": {"$exists": True}},
    )
