"""Complete sync: every change a member can observe in a room takes the room's next
`rev`, and `sync` (GET /api/sync, socket `sync_all`) returns the changes in the
caller's rooms after a cursor, once each, in rev order per room.

The invariant: a change that happened always has its rev, and a reader never passes a
rev whose change may still land.

- Each room document holds the log of its recent changes: `rev` (the newest), `log`
  (entries {id, type, ref, at, done}) and `log_base` (the rev of log[0]). An entry and
  its rev are taken by one atomic update of the room, so revs appear in order, with no
  gaps. A change of the room itself (members, roles, settings) is in that same update
  (`room_change`), done at once. A change of another document (a message edit, a read
  pointer) appends its entry first, then writes, then marks the entry done, or noop
  when the write changed nothing (`change`). New messages append their entries in the
  group commit's bulkWrite, before their inserts (services/commit.py).
- A reader delivers an entry once it is done (a new message: once it exists), with the
  entity's current state as `data`. An entry not done yet is in flight: the room's page
  ends before it, unless it is older than GRACE seconds, when its write has failed and
  it is passed over.
- Entries older than ARCHIVE_AFTER seconds move to `changes` (the upkeep loop of any
  process; idempotent, guarded by `log_base`), so a room's log stays short.
- Cursors live in `sync_cursors`: the caller's rooms and the last rev delivered in
  each. A cursor (or a change it needs) older than SYNC_RETENTION_DAYS is 410
  `sync_expired`; a cursor that is not the caller's is unknown (422).
"""

import logging
import secrets
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from bson import ObjectId
from flask import current_app
from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.errors import PyMongoError

from chat import wire
from chat.actor import Actor
from chat.errors import NotFound, SyncExpired, ValidationError
from chat.extensions import mongo_db
from chat.models import Message, ReadState, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import policy

GRACE = 10.0  # seconds an entry may wait for its entity's write before it is passed over
ARCHIVE_AFTER = 2.0  # seconds an entry stays in its room's log
# Change kinds, by what their `ref` names: a message (the change's data is the
# message's current state), a person in the room, a reader. Plugins add kinds of
# messages (their `message_changes` hook: a reaction, a vote): synced like the core's.
MESSAGE_CHANGES = frozenset(
    {"message_created", "message_updated", "message_deleted", "message_pinned", "thread_updated"}
)
ROOM_CHANGES = frozenset({"member_joined", "member_left", "room_updated", "role_changed"})
READ_CHANGES = frozenset({"read_updated"})
log = logging.getLogger(__name__)


def message_changes() -> frozenset[str]:
    """The kinds of message changes: the core's and the current app's plugins'."""
    return MESSAGE_CHANGES | current_app.extensions.get("message_changes", frozenset())


def _rooms():
    return mongo_db()["rooms"]


def _changes():
    return mongo_db()["changes"]


def _cursors():
    return mongo_db()["sync_cursors"]


@dataclass
class Entry:
    room: ObjectId
    rev: int
    id: ObjectId
    applied: bool = False


def new_entry(kind: str, ref: ObjectId | str = "", done: bool = False) -> dict:
    return {"id": ObjectId(), "type": kind, "ref": str(ref), "at": utcnow(), "done": done}


def append_update(entries: list[dict]) -> dict:
    """The update of a room that appends `entries` to its log (and takes their revs)."""
    return {
        "$inc": {"rev": len(entries)},
        "$push": {"log": {"$each": entries}},
        "$min": {"log_since": entries[0]["at"]},
    }


def room_change(update: dict, kind: str, ref: ObjectId | str = "") -> dict:
    """`update` of a room, also recording it as the change `kind` (done: the same write)."""
    merged = {op: dict(fields) for op, fields in update.items()}
    for op, fields in append_update([new_entry(kind, ref, done=True)]).items():
        if set(fields) & set(merged.get(op, {})):
            raise ValueError(f"{op} of {list(fields)} is the change log's")
        merged.setdefault(op, {}).update(fields)
    return merged


def append(room_id: ObjectId, kind: str, ref: ObjectId | str = "") -> Entry:
    """Append one entry (not done yet) to the room's log: its rev."""
    entry = new_entry(kind, ref)
    doc = _rooms().find_one_and_update(
        {"_id": room_id},
        append_update([entry]),
        projection={"rev": 1},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound("Room not found.")
    return Entry(room_id, doc["rev"], entry["id"])


def _finish(entry: Entry, fields: dict) -> None:
    """Set fields of an entry, in its room's log or, once archived, in `changes`."""
    in_log = {f"log.$.{k}": v for k, v in fields.items()}
    done = _rooms().update_one({"_id": entry.room, "log.id": entry.id}, {"$set": in_log})
    if not done.matched_count:
        _changes().update_one({"room": entry.room, "rev": entry.rev}, {"$set": fields})


@contextmanager
def change(room_id: ObjectId | str, kind: str, ref: ObjectId | str = ""):
    """Record a change of another document than the room: yields its Entry; write, and
    set `entry.applied` when the write changed something. The entry is then marked
    done, or noop (nothing changed, or an error). Best effort: a reader passes an
    entry left in flight over after GRACE."""
    entry = append(ObjectId(room_id), kind, ref)
    try:
        yield entry
    finally:
        with suppress(PyMongoError):
            _finish(entry, {"done": True} if entry.applied else {"type": "noop"})


def change_message(
    message: Message, kind: str, update: dict, where: dict | None = None, live_only: bool = True
) -> bool:
    """One raw update of a message (by default only while it is not deleted; `where`
    narrows it further), recorded as the change `kind` (it takes the room's next rev):
    whether it changed the message, which is reloaded."""
    query = {"_id": message.id, **({"deleted": False} if live_only else {}), **(where or {})}
    with change(message.room, kind, message.id) as entry:
        done = Message._get_collection().update_one(query, update)
        entry.applied = done.modified_count > 0
    message.reload()
    return entry.applied


# --- archiving and retention (the upkeep loop) ---


def archive(room_id: ObjectId) -> int:
    """Move the room's settled entries older than ARCHIVE_AFTER to `changes`; how many."""
    return _archive(list(_rooms().find({"_id": room_id}, {"log": 1, "log_base": 1})))


def archive_due(limit: int = 500) -> int:
    """Archive every room whose oldest entry is due, in three round trips whatever the
    number of rooms; how many entries moved."""
    cutoff = utcnow() - timedelta(seconds=ARCHIVE_AFTER)
    query = {"log_since": {"$lt": cutoff}}
    return _archive(list(_rooms().find(query, {"log": 1, "log_base": 1}).limit(limit)))


def _archive(rooms: list[dict]) -> int:
    now = utcnow()
    # entries still in flight stay where their writer marks them done (up to GRACE)
    due = [now - timedelta(seconds=ARCHIVE_AFTER), now - timedelta(seconds=GRACE)]
    copies, trims = [], []
    for doc in rooms:
        log = doc.get("log") or []
        count = next((i for i, e in enumerate(log) if not _settled(e, *due)), len(log))
        if not count:
            continue
        base, old, rest = doc.get("log_base", 1), log[:count], log[count:]
        copies += [
            UpdateOne(
                {"room": doc["_id"], "rev": base + i},
                {"$setOnInsert": {k: e[k] for k in ("type", "ref", "at", "done")}},
                upsert=True,
            )
            for i, e in enumerate(old)
        ]
        update: dict = {"$pull": {"log": {"id": {"$in": [e["id"] for e in old]}}}}
        update["$set"] = {"log_base": base + count}  # (a missing log_base is 1)
        if rest:
            update["$set"]["log_since"] = rest[0]["at"]
        else:
            update["$unset"] = {"log_since": ""}
        # guarded by log_base: another process archiving the same room changes nothing
        # (a room that never archived may have no log_base yet: null matches it)
        guard = {"$in": [base, None]} if base == 1 else base
        trims.append(UpdateOne({"_id": doc["_id"], "log_base": guard}, update))
    if copies:  # copied before they leave the log: a reader finds them in one or the other
        _changes().bulk_write(copies, ordered=False)
        _rooms().bulk_write(trims, ordered=False)
    return len(copies)


def _settled(entry: dict, archive_before, grace_before) -> bool:
    """Old enough to archive, and done, a noop, a new message's, or past GRACE."""
    finished = entry.get("done") or entry["type"] in ("noop", "message_created")
    return entry["at"] <= archive_before and (finished or entry["at"] <= grace_before)


def cancel_created(docs: list[dict]) -> None:
    """New messages' entries whose inserts did not happen: noops, so readers need not
    wait for them (best effort: they pass them over after GRACE anyway)."""
    by_room: dict = {}
    for doc in docs:
        by_room.setdefault(doc["room"], []).append(str(doc["_id"]))
    for room_id, refs in by_room.items():
        with suppress(PyMongoError):
            _rooms().update_one(
                {"_id": room_id},
                {"$set": {"log.$[e].type": "noop"}},
                array_filters=[{"e.ref": {"$in": refs}, "e.type": "message_created"}],
            )


def purge(days: int) -> None:
    """Forget changes and cursors older than the retention."""
    cutoff = utcnow() - timedelta(days=days)
    _changes().delete_many({"at": {"$lt": cutoff}})
    _cursors().delete_many({"created_at": {"$lt": cutoff}})


# --- reading ---


def _entries(room: dict, after: int, limit: int) -> list[dict]:
    """The room's entries after rev `after` (archived first), up to `limit`, each with
    its `rev`. `room` is the raw room document (rev, log_base, log) read before."""
    base, found = room.get("log_base", 1), []
    if after + 1 < base:
        query = {"room": room["_id"], "rev": {"$gt": after, "$lt": base}}
        found = list(_changes().find(query).sort("rev", ASCENDING).limit(limit))
        if not found or found[0]["rev"] != after + 1:
            raise SyncExpired()  # purged: older than the retention
    for i, entry in enumerate(room.get("log") or []):
        if base + i > after and len(found) < limit:
            found.append({**entry, "rev": base + i})
    return found


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
    found = _rooms().find({"participants": actor.id})
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
            positions[key] = _joined_at(doc, actor.id)
            out.append({"roomId": key, "rev": positions[key], "type": "room_added",
                        "at": isoformat(utcnow()), "data": {"room": wire.room(room)}})  # fmt: skip
        want = limit - len(out)
        if want <= 0:  # the room_added took the last place: its changes come next
            more = True
            break
        entries = _entries(doc, positions[key], want)
        changed, reached = _resolve(room, entries, actor.id)
        out += changed
        if reached is not None:
            positions[key] = reached
        cut = len(entries) == want and reached == entries[-1]["rev"]  # by the limit
        more = more or (cut and reached < doc.get("rev", 0))
    return {"changes": out, "cursor": _save(actor, positions), "hasMore": more}


def _joined_at(room: dict, user_id: ObjectId) -> int:
    """The rev of the caller's latest join of the room (the changes after it are theirs
    to get); the room's newest rev when there is none (a room created by, or opened
    for, them)."""
    base, ref = room.get("log_base", 1), str(user_id)
    joins = [base + i for i, e in enumerate(room.get("log") or []) if _joined(e, ref)]
    if not joins:
        query = {"room": room["_id"], "type": "member_joined", "ref": ref}
        older = _changes().find_one(query, {"rev": 1}, sort=[("rev", -1)])
        joins = [older["rev"]] if older else []
    return joins[-1] if joins else room.get("rev", 0)


def _joined(entry: dict, ref: str) -> bool:
    return entry["type"] == "member_joined" and entry["ref"] == ref


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
