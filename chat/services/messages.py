"""Messages: post with a per-room seq and idempotent clientId, history, edit, delete."""

import math
import re
from typing import NamedTuple

from bson import ObjectId
from flask import current_app
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from chat import plugin_manager as plugins
from chat import wire
from chat.actor import Actor
from chat.errors import Conflict, NotFound, RateLimited, ValidationError
from chat.events import MessageCreated, MessageDeleted, MessageUpdated
from chat.live import limits
from chat.live.publish import publish
from chat.models import Message, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import audit, policy, slash, threads
from chat.services.rooms import get_member_room, get_room, is_admin
from chat.store import changelog, commit, terms
from chat.store.documents import find_document, to_oid

HISTORY_KEPT = 50  # earlier versions kept per message
PINS_PER_ROOM = 50
PINNED, UNPINNED = {"pinned_at": {"$exists": True}}, {"pinned_at": {"$exists": False}}
IN_ROOM = {"thread_only": {"$ne": True}}  # room history: no reply sent to its thread only
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{3,32})")


def _check_content(content: str, message_type: str) -> None:
    if message_type not in current_app.extensions["message_types"]:
        raise ValidationError(fields={"messageType": [f"No message type {message_type!r}."]})
    limit = current_app.config["MESSAGE_MAX_LENGTH"]
    if len(content) > limit:
        raise ValidationError(fields={"content": [f"Longer than {limit} characters."]})
    if message_type == "text" and not content.strip():
        raise ValidationError(fields={"content": ["A text message cannot be empty."]})


def _validated(
    actor: Actor, room: Room, content: str, message_type: str, data: dict, is_edit: bool
) -> dict:
    """Core checks, then the validate_message hook (which may change the draft)."""
    _check_content(content, message_type)
    draft: dict = {"content": content, "message_type": message_type, "data": dict(data)}
    plugins.call("validate_message", actor=actor, room=room, draft=draft, is_edit=is_edit)
    _check_content(draft["content"], draft["message_type"])
    return draft


def parse_mentions(content: str, room: Room, sender: ObjectId) -> list[ObjectId]:
    """Ids of room members named as @username (case-insensitive), in order, once each;
    not those who blocked the sender."""
    names = list(dict.fromkeys(m.lower() for m in MENTION.findall(content)))[:50]
    if not names:
        return []
    found = User._get_collection().find(
        {"username_lower": {"$in": names}, "_id": {"$in": room.participants}},
        {"username_lower": 1, "blocked": 1},
    )
    by_name = {u["username_lower"]: u["_id"] for u in found if policy.reaches(sender, u)}
    return [by_name[n] for n in names if n in by_name]


class Posted(NamedTuple):
    """A send's outcome: the stored message, whether this call stored it (False for a
    retry with a known clientId), and its wire form (the broadcast, the ack and the
    REST body all carry this one dict: built once, extend_message called once)."""

    message: Message
    created: bool
    wire: dict


def post_message(
    actor: Actor,
    room_id: str,
    content: str,
    message_type: str = "text",
    client_id: str | None = None,
    data: dict | None = None,
    quoted_message_id: str | None = None,
    parent_id: str | None = None,
    also_in_room: bool = False,
) -> Posted:
    """Store a message and broadcast it.

    Args:
        data: plugin-owned fields stored with the message (an attachment, ...).
        quoted_message_id: a message of the same room this one quotes.
        parent_id: a top-level message of the same room: this one is a reply in its
            thread, shown in the room's history only with `also_in_room`.

    Returns:
        Posted. A retry with a clientId already used by this sender in this room
        returns the stored message and created=False (no broadcast).
    Raises:
        NotFound / Forbidden: not a member; ValidationError: bad content.
    """
    room = get_member_room(actor, room_id, "post_message", cached=True)
    draft = _validated(actor, room, content, message_type, data or {}, is_edit=False)
    _slow_mode(actor, room)
    quoted = _quotable(room, quoted_message_id) if quoted_message_id else None
    parent = threads.check_parent(room, parent_id) if parent_id else None
    now = utcnow()
    doc = {
        "room": room.id,
        "sender": actor.id,
        "sender_name": actor.username,
        "content": draft["content"],
        "message_type": draft["message_type"],
        "timestamp": now,
        "mentions": parse_mentions(draft["content"], room, actor.id),
        "terms": terms.terms(draft["content"]),
        "edited": False,
        "deleted": False,
        "data": draft["data"],
    }
    if actor.bot:
        doc["sender_bot"] = True
    if client_id is not None:
        doc["client_id"] = client_id
    if quoted is not None:
        doc["quoted_id"] = quoted.id
    if parent is not None:
        doc["parent_id"] = parent.id
        doc["thread_only"] = not also_in_room
    try:
        doc = commit.store(doc, room.last_seq or 0)
    except DuplicateKeyError:  # a retry: this clientId is already stored
        query = {"room": room.id, "sender": actor.id, "client_id": client_id}
        stored = find_document(Message, query)
        if parent is not None and stored.parent_id == parent.id:
            threads.recount(parent)  # in case the first try's count was lost
        return Posted(stored, False, wire.message(stored))
    message = Message._from_son(doc)
    if parent is not None:
        threads.replied(message, parent)
    payload = wire.message(message, quoted)
    event = MessageCreated(room_id=str(room.id), message=payload, room_type=room.type)
    publish(event)
    return Posted(message, True, payload)


def send(actor: Actor, room_id: str, content: str, **options) -> Posted | slash.Reply:
    """What both transports' sends call: a message, or a slash command when the text
    starts with `/name` (run as the sender, in that room: see services/slash).
    `//text` posts `/text`.

    Returns:
        Posted (a message was stored, by the send or by the command), or the command's
        Reply for the sender alone.
    """
    parsed = slash.parse(content) if options.get("message_type", "text") == "text" else None
    if parsed is None:
        if content.startswith("//"):
            content = content[1:]
        return post_message(actor, room_id, content, **options)
    room = get_member_room(actor, room_id, "post_message")
    reply = slash.run(actor, room, *parsed)
    if reply.post is None:
        return reply
    data = {**(options.pop("data", None) or {}), **reply.data}
    return post_message(actor, room_id, reply.post, data=data, **options)


def _slow_mode(actor: Actor, room: Room) -> None:
    """A room in slow mode lets a member other than its admins send once per N seconds,
    counted for all processes on the shared buckets (per process when Redis is down)."""
    seconds = room.settings.slow_mode_seconds or 0
    if seconds and not is_admin(actor, room):
        wait = limits.take((f"slow:{room.id}:{actor.id}", 1 / seconds, 1))
        if wait:
            raise RateLimited(
                f"This room is in slow mode: one message every {seconds} s.",
                retry_after=math.ceil(wait),
            )


def _quotable(room: Room, message_id: str) -> Message:
    """The message a new one quotes: in the same room, and not deleted."""
    quoted = Message.objects(id=to_oid(message_id, "Message"), room=room.id).first()
    if quoted is None or quoted.deleted:
        problem = "No such message in this room." if quoted is None else "It was deleted."
        raise ValidationError(fields={"quotedMessageId": [problem]})
    return quoted


def _cursor_seq(room: Room, message_id: str, name: str) -> int:
    message = Message.objects(id=to_oid(message_id), room=room.id).only("seq").first()
    if message is None:
        raise ValidationError(fields={name: ["No such message in this room."]})
    return message.seq


def list_messages(
    actor: Actor,
    room_id: str,
    limit: int = 50,
    before: str | None = None,
    after: str | None = None,
) -> tuple[list[Message], bool]:
    """A page of history, oldest first, by seq (never skip/offset).

    With `after`: the next `limit` messages after it. With `before` (or neither):
    the `limit` messages just before it (or the latest). Both: the window between.
    Returns:
        (messages, hasMore): hasMore says more exist in the paging direction.
    """
    room = get_member_room(actor, room_id, "read_messages")
    seq_range = {}
    if after is not None:
        seq_range["$gt"] = _cursor_seq(room, after, "after")
    if before is not None:
        seq_range["$lt"] = _cursor_seq(room, before, "before")
    return _page(room, seq_range, after is not None, limit)


def sync_messages(
    actor: Actor, room_id: str, after: str | None = None, limit: int = 100
) -> tuple[list[Message], bool]:
    """What a client missed: messages after `after` (from the first without it),
    in seq order, with hasMore when another call is needed.
    """
    room = get_member_room(actor, room_id, "read_messages")
    since = _cursor_seq(room, after, "after") if after is not None else 0
    return _page(room, {"$gt": since}, True, limit)


def _page(room: Room, seq_range: dict, forward: bool, limit: int) -> tuple[list[Message], bool]:
    query = {"room": room.id, **({"seq": seq_range} if seq_range else {}), **IN_ROOM}
    order = ASCENDING if forward else DESCENDING
    docs = list(Message._get_collection().find(query).sort("seq", order).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    if not forward:
        docs.reverse()
    return [Message._from_son(d) for d in docs], more


def get_message(
    actor: Actor, message_id: str, action: str, reaches_sender: bool = False
) -> tuple[Message, Room]:
    """A message on which the policy lets the actor do `action` (404 when its room is
    hidden from them).

    Args:
        reaches_sender: the action contacts the message's sender (a reaction): a block
            of theirs stops it.
    """
    message = Message.objects(id=to_oid(message_id, "Message")).first()
    if message is None:
        raise NotFound("Message not found.")
    try:
        room = get_room(actor, message.room)
    except NotFound:
        raise NotFound("Message not found.") from None
    target = message.sender if reaches_sender else None
    policy.authorize(actor, action, room=room, target=target, resource=message)
    return message, room


def edit_message(actor: Actor, message_id: str, content: str) -> Message:
    """The sender changes the text; mentions are parsed again.

    Raises:
        Forbidden: not the sender. Conflict: the message was deleted.
    """
    message, room = get_message(actor, message_id, "edit_message")
    if message.deleted:
        raise Conflict("The message was deleted.")
    draft = _validated(actor, room, content, message.message_type, message.data, is_edit=True)
    content = draft["content"]
    mentions = parse_mentions(content, room, actor.id)
    edit = {"content": content, "mentions": mentions, "edited": True}
    edit["terms"] = terms.terms(content)
    edit["edited_at"] = utcnow()
    # the version it replaces joins the history (the newest HISTORY_KEPT of them)
    was = {"content": message.content, "edited_at": message.edited_at or message.timestamp}
    history = {"history": {"$each": [was], "$slice": -HISTORY_KEPT}}
    update = {"$set": edit, "$push": history}
    if not changelog.change_message(message, "message_updated", update) and message.deleted:
        raise Conflict("The message was deleted.")
    publish(MessageUpdated(room_id=str(room.id), message=wire.message(message)))
    return message


def thread(
    actor: Actor, message_id: str, limit: int = 50, before: str | None = None, after=None
) -> tuple[list[Message], bool]:
    """A page of the replies in the thread of a top-level message, oldest first."""
    parent, _room = get_message(actor, message_id, "read_messages")
    return threads.replies(parent, limit, before, after)


def message_history(actor: Actor, message_id: str) -> list[dict]:
    """Every version of a message, oldest first, the current one last (members only)."""
    message, _room = get_message(actor, message_id, "read_messages")
    if message.deleted:
        return []
    versions = [
        {"content": v["content"], "editedAt": isoformat(v["edited_at"])} for v in message.history
    ]
    current = message.edited_at or message.timestamp
    return [*versions, {"content": message.content, "editedAt": isoformat(current)}]


def pin_message(actor: Actor, message_id: str, pinned: bool) -> Message:
    """Pin or unpin (idempotent): room admins, or members when `membersCanPin`.

    Raises:
        Forbidden: not allowed. Conflict: a deleted message, or the room's pins are full.
    """
    message, room = get_message(actor, message_id, "pin_message")
    if message.deleted:
        raise Conflict("The message was deleted.")
    if pinned and not message.pinned_at:
        if Message.objects(room=room.id, pinned_at__exists=True).count() >= PINS_PER_ROOM:
            raise Conflict(f"A room keeps at most {PINS_PER_ROOM} pins; unpin one first.")
        pin = {"$set": {"pinned_by": actor.id, "pinned_at": utcnow()}}
        changed = changelog.change_message(message, "message_pinned", pin, where=UNPINNED)
    elif not pinned and message.pinned_at:
        unpin = {"$unset": {"pinned_by": "", "pinned_at": ""}}
        changed = changelog.change_message(message, "message_pinned", unpin, where=PINNED)
    else:
        changed = False
    if changed:
        publish(MessageUpdated(room_id=str(room.id), message=wire.message(message)))
    return message


def pins(actor: Actor, room_id: str) -> list[Message]:
    """The room's pinned messages, the newest pin first (members only)."""
    room = get_member_room(actor, room_id, "read_messages")
    return list(Message.objects(room=room.id, pinned_at__exists=True).order_by("-pinned_at"))


def delete_message(actor: Actor, message_id: str) -> Message:
    """Soft delete by the sender or a room admin: a tombstone keeps seq, not content."""
    message, room = get_message(actor, message_id, "delete_message")
    if message.deleted:
        return message
    erase(message)
    if message.sender != actor.id:  # a room admin's moderation
        audit.record(actor, "message.delete", message.id, room=room.id, sender=str(message.sender))
    return message


def erase(message: Message) -> None:
    """Make a message a tombstone (it keeps its seq, not its content) and tell its room."""
    tombstone = {"content": "", "mentions": [], "data": {}, "deleted": True}
    tombstone["terms"] = []
    tombstone |= {"deleted_at": utcnow(), "history": []}  # no earlier version survives
    unpin = {"pinned_by": "", "pinned_at": ""}
    changelog.change_message(message, "message_deleted", {"$set": tombstone, "$unset": unpin})
    publish(MessageDeleted(room_id=str(message.room), message_id=str(message.id)))
    if message.parent_id:
        parent = Message.objects(id=message.parent_id).first()
        if parent is not None:
            threads.recount(parent)
