"""Threads: replies to a top-level message, their summary, and each user's threads.

A reply is a message of the same room with `parent_id`: it takes the room's `seq`
like any message (so edits, deletes, reactions and sync treat it the same), and a
thread's replies in seq order are its order. Room history shows a reply only when
it was sent with `alsoInRoom`.

The summary on the parent (`thread {replyCount, lastReplyAt, participants}`) is
counted from the stored replies, never incremented: every change of a thread first
takes the parent's next `thread_v`, then counts, then writes the count only if no
later count was written (`thread_counted < v`). A count taken at version v sees
every reply stored before v was taken, so the newest written count is exact however
replies from several processes interleave, and a count lost with a crashed process
is made good by the next change of the thread (or a client's retry of the reply).
"""

import base64
from datetime import UTC, datetime

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne

from chat import wire
from chat.actor import Actor
from chat.errors import ValidationError
from chat.events import ThreadUpdated
from chat.live.publish import publish
from chat.models import Message, Room, ThreadState
from chat.store import changelog
from chat.store.documents import to_oid

PARTICIPANTS_SHOWN = 50


def check_parent(room: Room, parent_id: str) -> Message:
    """The message a reply answers: a live top-level message of the same room."""
    parent = Message.objects(id=to_oid(parent_id, "Message"), room=room.id).first()
    problem = None
    if parent is None:
        problem = "No such message in this room."
    elif parent.parent_id is not None:
        problem = "A reply cannot have replies: answer in its thread."
    elif parent.deleted:
        problem = "It was deleted."
    if problem:
        raise ValidationError(fields={"parentId": [problem]})
    return parent


def replied(reply: Message, parent: Message) -> None:
    """After a reply is stored: the thread's members and its summary."""
    people = {reply.sender, parent.sender, *parent.mentions, *reply.mentions}
    states = ThreadState._get_collection()
    key = {"parent": parent.id}
    ops = [
        UpdateOne(
            {"user": user, **key},
            {"$setOnInsert": {"room": reply.room, "seq": 0}}
            if user != reply.sender
            else {"$setOnInsert": {"room": reply.room}, "$max": {"seq": reply.seq}},
            upsert=True,
        )
        for user in people
    ]
    states.bulk_write(ops, ordered=False)
    states.update_many(key, {"$max": {"last_reply_at": reply.timestamp}})
    recount(parent)


def recount(parent: Message) -> None:
    """Count the thread again and, unless a later count was written, store and tell it."""
    messages = Message._get_collection()
    took = messages.find_one_and_update(
        {"_id": parent.id},
        {"$inc": {"thread_v": 1}},
        projection={"thread_v": 1},
        return_document=ReturnDocument.AFTER,
    )
    if took is None:
        return
    version = took["thread_v"]
    counted = list(
        messages.aggregate(
            [
                {"$match": {"parent_id": parent.id, "deleted": False}},
                {
                    "$group": {
                        "_id": None,
                        "n": {"$sum": 1},
                        "last": {"$max": "$timestamp"},
                        "who": {"$addToSet": "$sender"},
                    }
                },
            ]
        )
    )
    total = counted[0] if counted else {"n": 0, "last": None, "who": []}
    summary = {
        "reply_count": total["n"],
        "last_reply_at": total["last"],
        "thread_participants": sorted(total["who"])[:PARTICIPANTS_SHOWN],
        "thread_counted": version,
    }
    later = {"$or": [{"thread_counted": {"$lt": version}}, {"thread_counted": {"$exists": False}}]}
    if changelog.change_message(
        parent, "thread_updated", {"$set": summary}, where=later, live_only=False
    ):
        publish(ThreadUpdated(str(parent.room), str(parent.id), wire.thread(parent)))


def replies(
    parent: Message, limit: int, before: str | None = None, after: str | None = None
) -> tuple[list[Message], bool]:
    """A page of a thread's replies, oldest first (as room history pages)."""
    if parent.parent_id is not None:
        raise ValidationError(fields={"messageId": ["A reply has no thread of its own."]})
    seq_range = {}
    for name, cursor, op in (("after", after, "$gt"), ("before", before, "$lt")):
        if cursor is not None:
            reply = Message.objects(id=to_oid(cursor), parent_id=parent.id).only("seq").first()
            if reply is None:
                raise ValidationError(fields={name: ["No such reply in this thread."]})
            seq_range[op] = reply.seq
    query: dict = {"parent_id": parent.id, **({"seq": seq_range} if seq_range else {})}
    forward = after is not None
    found = Message._get_collection().find(query).sort("seq", ASCENDING if forward else DESCENDING)
    docs = list(found.limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    if not forward:
        docs.reverse()
    return [Message._from_son(d) for d in docs], more


def members(parent_id: str) -> list[str]:
    """The users of a thread: who wrote in it or was mentioned in it (ids)."""
    found = ThreadState._get_collection().find({"parent": ObjectId(parent_id)}, {"user": 1})
    return [str(s["user"]) for s in found]


def mark_read(actor: Actor, reply: Message) -> int:
    """Move the actor's pointer in the reply's thread forward; the thread's unread count."""
    ThreadState._get_collection().update_one(
        {"user": actor.id, "parent": reply.parent_id},
        {"$max": {"seq": reply.seq}, "$setOnInsert": {"room": reply.room}},
        upsert=True,
    )
    return _unread(actor, reply.parent_id, reply.seq)


def _unread(actor: Actor, parent_id: ObjectId, seq: int) -> int:
    query = {"parent_id": parent_id, "seq": {"$gt": seq}, "deleted": False}
    return Message._get_collection().count_documents({**query, "sender": {"$ne": actor.id}})


def my_threads(actor: Actor, limit: int, cursor: str | None) -> dict:
    """The threads the actor wrote in or was mentioned in, in rooms they are in now, the
    most recently active first: {threads: [{roomId, message, unreadCount}], nextCursor}."""
    rooms = [r["_id"] for r in Room._get_collection().find({"participants": actor.id}, {"_id": 1})]
    query: dict = {"user": actor.id, "room": {"$in": rooms}, "last_reply_at": {"$ne": None}}
    if cursor is not None:
        at, last = _decode(cursor)
        query["$or"] = [
            {"last_reply_at": {"$lt": at}},
            {"last_reply_at": at, "_id": {"$lt": last}},
        ]
    order = [("last_reply_at", DESCENDING), ("_id", DESCENDING)]
    states = list(ThreadState._get_collection().find(query).sort(order).limit(limit + 1))
    more = len(states) > limit
    states = states[:limit]
    parents = {m.id: m for m in Message.objects(id__in=[s["parent"] for s in states])}
    threads = [
        {
            "roomId": str(s["room"]),
            "message": wire.message(parents[s["parent"]]),
            "unreadCount": _unread(actor, s["parent"], s.get("seq", 0)),
        }
        for s in states
        if s["parent"] in parents
    ]
    next_cursor = _encode(states[-1]) if more and states else None
    return {"threads": threads, "nextCursor": next_cursor}


def _encode(state: dict) -> str:
    stamp = int(state["last_reply_at"].timestamp() * 1000)
    return base64.urlsafe_b64encode(f"{stamp}.{state['_id']}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, ObjectId]:
    try:
        stamp, _, oid = base64.urlsafe_b64decode(cursor.encode()).decode().partition(".")
        return datetime.fromtimestamp(int(stamp) / 1000, UTC), ObjectId(oid)
    except (ValueError, InvalidId, UnicodeError, OverflowError):
        raise ValidationError(fields={"cursor": ["Unknown cursor."]}) from None
