"""Complete sync: every change in the caller's rooms after a cursor, once each, in rev
order per room (GET /api/sync, socket `sync_all`), from the rooms' change logs
(store/changelog.py).

The invariant: a change that happened always has its rev, and a reader never passes a
rev whose change may still land.

- A reader delivers an entry once it is done (a new message: once it exists), with the
  entity's current state as `data`, and only what the policy lets the caller see. An
  entry not done yet is in flight: the room's page ends before it, unless it is older
  than GRACE seconds, when its write has failed and it is passed over.
- Cursors live in `sync_cursors`: the caller's rooms and the last rev delivered in
  each. A cursor (or a change it needs) older than SYNC_RETENTION_DAYS is 410
  `sync_expired`; a cursor that is not the caller's is unknown (422).
"""

import logging
import secrets
import time
from datetime import timedelta

from bson import ObjectId
from flask import current_app

from chat import wire
from chat.actor import Actor
from chat.errors import SyncExpired, ValidationError
from chat.extensions import mongo_db
from chat.models import Message, ReadState, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import policy
from chat.store import changelog
from chat.store.changelog import GRACE

# Change kinds, by what their `ref` names: a message (the change's data is the
# message's current state), a person in the room, a reader. Plugins add kinds of
# messages (their `message_changes` hook: a reaction, a vote): synced like the core's.
MESSAGE_CHANGES = frozenset(
    {"message_created", "message_updated", "message_deleted", "message_pinned", "thread_updated"}
)
ROOM_CHANGES = frozenset({"member_joined", "member_left", "room_updated", "role_changed"})
READ_CHANGES = frozenset({"read_updated"})
log = logging.getLogger(__name__)


def _cursors():
    return mongo_db()["sync_cursors"]


def purge(days: int) -> None:
    """Forget changes and cursors older than the retention."""
    changelog.purge(days)
    _cursors().delete_many({"created_at": {"$lt": utcnow() - timedelta(days=days)}})


def message_changes() -> frozenset[str]:
    """The kinds of message changes: the core's and the current app's plugins'."""
    return MESSAGE_CHANGES | current_app.extensions.get("message_changes", frozenset())


def _resolve(room: Room, entries: list[dict], viewer: ObjectId) -> tuple[list[dict], int | None]:
    """The changes the entries stand for, in order, up to the first still in flight;
    and the rev reached (entries passed over, or hidden from `viewer`, count as
    reached)."""
    of_messages = message_changes()
    refs = {ObjectId(e["ref"]) for e in entries if e["type"] in of_messages}
    messages = {m.id: m for m in Message.objects(id__in=list(refs))} if refs else {}
    people = {ObjectId(e["ref"]) for e in entries if e["ref"] and e["type"] not in of_messages}
    reads = _receipts(room, people)
    users = {u.id: u for u in User.objects(id__in=list(people))} if people else {}
    out, reached, now = [], None, utcnow()
    for entry in entries:
        data = None if entry["type"] == "noop" else _data(room, entry, messages, reads, users)
        if data is None and _known(entry["type"], of_messages):
            if (now - entry["at"]).total_seconds() < GRACE:
                break  # its write may still land: this room's page ends here
        elif data is not None and _sees(viewer, entry, users):  # else hidden: passed over
            at = isoformat(entry["at"])
            out.append({"roomId": str(room.id), "rev": entry["rev"], "type": entry["type"],
                        "at": at, "data": data})  # fmt: skip
        reached = entry["rev"]
    return out, reached


def _known(kind: str, of_messages: frozenset[str]) -> bool:
    """Whether a change may still be in flight: a kind no one declares (a plugin's,
    switched off) has nothing to wait for, and is passed over at once."""
    if kind == "noop":
        return False
    if kind in of_messages or kind in ROOM_CHANGES or kind in READ_CHANGES:
        return True
    log.warning("a change of an undeclared kind %s is passed over", kind)
    return False


def _sees(viewer: ObjectId, entry: dict, users: dict) -> bool:
    """A read pointer shows only as far as the policy lets the viewer see it: today's
    setting decides, also for a change made while read receipts were on."""
    if entry["type"] not in READ_CHANGES:
        return True
    reader = users.get(ObjectId(entry["ref"]))
    return reader is not None and policy.sees(viewer, reader, "read")


def _receipts(room: Room, users: set[ObjectId]) -> dict[ObjectId, dict]:
    """The current read receipts of `users` in the room (as `read_updated` carries)."""
    states = list(ReadState.objects(room=room.id, user__in=list(users), seq__gt=0)) if users else []
    seqs = [s.seq for s in states]
    ids = {m.seq: str(m.id) for m in Message.objects(room=room.id, seq__in=seqs).only("id", "seq")}
    return {
        s.user: {
            "userId": str(s.user),
            "lastReadMessageId": ids[s.seq],
            "lastReadSeq": s.seq,
            "at": isoformat(s.updated_at),
        }
        for s in states
        if s.seq in ids
    }


def _data(room: Room, entry: dict, messages: dict, reads: dict, users: dict) -> dict | None:
    """The entity's current state, once the entry is done (a new message: once it
    exists); None while it is in flight."""
    kind = entry["type"]
    if kind == "message_created" or (kind in message_changes() and entry.get("done")):
        message = messages.get(ObjectId(entry["ref"]))
        return {"message": wire.message(message)} if message is not None else None
    if not entry.get("done"):
        return None
    if kind in READ_CHANGES:
        return reads.get(ObjectId(entry["ref"]))
    if kind not in ROOM_CHANGES:
        return None
    data: dict = {"room": wire.room(room)}
    if entry["ref"]:
        data["userId"] = entry["ref"]
        user = users.get(ObjectId(entry["ref"]))
        if kind == "member_joined" and user is not None:
            data["user"] = wire.user(user)
    return data


def sync(actor: Actor, since: str | None, limit: int) -> dict:
    """Every change in the caller's rooms after the cursor `since` (none: just the
    current cursor), once each, in rev order per room, at most `limit`."""
    policy.authorize(actor, "sync")
    found = changelog.room_documents().find({"participants": actor.id})
    raw = {r["_id"]: r for r in found if actor.credential.may_use(r["_id"])}
    if since is None:
        positions = {str(r): doc.get("rev", 0) for r, doc in raw.items()}
        return {"changes": [], "cursor": _save(actor, positions), "hasMore": False}
    positions = _load(actor, since)
    out: list[dict] = []
    gone = sorted(set(positions) - {str(r) for r in raw})
    rooms = sorted(raw)
    for room_id in gone:
        if len(out) >= limit:
            break
        out.append({"roomId": room_id, "rev": positions.pop(room_id), "type": "room_removed",
                    "at": isoformat(utcnow()), "data": {}})  # fmt: skip
    more = bool(set(gone) & set(positions))  # the limit stopped the removals
    for room_id in rooms:
        if len(out) >= limit:
            more = True
            break
        doc, key = raw[room_id], str(room_id)
        room = Room._from_son(doc)
        if key not in positions:  # the room, then its changes since the caller joined
            positions[key] = changelog.joined_at(doc, actor.id)
            out.append({"roomId": key, "rev": positions[key], "type": "room_added",
                        "at": isoformat(utcnow()), "data": {"room": wire.room(room)}})  # fmt: skip
        want = limit - len(out)
        if want <= 0:  # the room_added took the last place: its changes come next
            more = True
            break
        entries = changelog.entries(doc, positions[key], want)
        changed, reached = _resolve(room, entries, actor.id)
        out += changed
        if reached is not None:
            positions[key] = reached
        cut = len(entries) == want and reached == entries[-1]["rev"]  # by the limit
        more = more or (cut and reached < doc.get("rev", 0))
    return {"changes": out, "cursor": _save(actor, positions), "hasMore": more}


def _save(actor: Actor, positions: dict) -> str:
    """A new cursor: `<creation time, hex>.<random>` (the time tells an expired cursor
    from an unknown one after it is purged)."""
    token = f"{int(time.time()):x}.{secrets.token_urlsafe(18)}"
    _cursors().insert_one(
        {"_id": token, "user": actor.id, "positions": positions, "created_at": utcnow()}
    )
    return token


def _load(actor: Actor, token: str) -> dict:
    days = current_app.config["SYNC_RETENTION_DAYS"]
    doc = _cursors().find_one({"_id": token})
    stamp = token.partition(".")[0]
    created = int(stamp, 16) if stamp and all(c in "0123456789abcdef" for c in stamp) else None
    if doc is None or doc["user"] != actor.id:
        if doc is None and created is not None and created < time.time() - days * 86400:
            raise SyncExpired()
        raise ValidationError("Unknown cursor.", fields={"since": ["Unknown cursor."]})
    if doc["created_at"] < utcnow() - timedelta(days=days):
        raise SyncExpired()
    return dict(doc["positions"])
