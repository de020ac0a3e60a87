"""Rooms, messages and read pointers: the query paths and uniqueness rules."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.rooms.create_index([("participants", ASCENDING)], name="participants")
    db.rooms.create_index([("type", ASCENDING), ("_id", ASCENDING)], name="type_id")
    db.rooms.create_index(
        [("direct_key", ASCENDING)],
        unique=True,
        partialFilterExpression={"direct_key": {"$type": "string"}},
        name="direct_key_unique",
    )
    db.messages.create_index(
        [("room", ASCENDING), ("seq", ASCENDING)], unique=True, name="room_seq"
    )
    db.messages.create_index([("room", ASCENDING), ("timestamp", DESCENDING)], name="room_time")
    db.messages.create_index([("sender", ASCENDING), ("timestamp", DESCENDING)], name="sender_time")
    db.messages.create_index(
        [("room", ASCENDING), ("sender", ASCENDING), ("client_id", ASCENDING)],
        unique=True,
        partialFilterExpression={"client_id": {"$type": "string"}},
        name="client_id_unique",
    )
    db.read_states.create_index(
        [("user", ASCENDING), ("room", ASCENDING)], unique=True, name="user_room_unique"
    )
