"""Export a room as JSON lines, streamed (never built in memory): the room, its members,
then every message in seq order with its edit history and reactions. For room owners
over REST and for operators on the command line (`flask export --room ID`)."""

import json
from collections.abc import Iterator

from chat import wire
from chat.actor import Actor
from chat.models import Message, Room, User
from chat.models.base import isoformat
from chat.services import audit
from chat.services.rooms import get_member_room

BATCH = 500


def for_owner(actor: Actor, room_id: str) -> tuple[Room, Iterator[str]]:
    """The room and its lines, for its owners (members get 403, others 404)."""
    room = get_member_room(actor, room_id, "export_room")
    audit.record(actor, "room.export", room.id, room=room.id)
    return room, lines(room)


def lines(room: Room) -> Iterator[str]:
    """One JSON object per line: {type: room}, {type: member} each, {type: message} each."""
    yield _line({"type": "room", "room": wire.room(room)})
    for user in User.objects(id__in=room.participants).order_by("username_lower"):
        yield _line({"type": "member", "user": wire.user(user)})
    after = 0
    while True:
        batch = list(
            Message._get_collection()
            .find({"room": room.id, "seq": {"$gt": after}})
            .sort("seq", 1)
            .limit(BATCH)
        )
        for doc in batch:
            message = Message._from_son(doc)
            versions = [
                {"content": v["content"], "editedAt": isoformat(v["edited_at"])}
                for v in message.history
            ]
            yield _line({"type": "message", "message": wire.message(message), "history": versions})
        if len(batch) < BATCH:
            return
        after = batch[-1]["seq"]


def _line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
