"""The change log: every change a member can observe in a room takes the room's next
`rev` (services/sync.py serves it; the docstring there gives the invariant).

- Each room document holds the log of its recent changes: `rev` (the newest), `log`
  (entries {id, type, ref, at, done}) and `log_base` (the rev of log[0]). An entry and
  its rev are taken by one atomic update of the room, so revs appear in order, with no
  gaps. A change of the room itself (members, roles, settings) is in that same update
  (`room_change`), done at once. A change of another document (a message edit, a read
  pointer) appends its entry first, then writes, then marks the entry done, or noop
  when the write changed nothing (`change`). New messages append their entries in the
  group commit's bulkWrite, before their inserts (store/commit.py).
- Entries older than ARCHIVE_AFTER seconds move to `changes` (the upkeep loop of any
  process; idempotent, guarded by `log_base`), so a room's log stays short; changes
  older than the retention are purged.
"""

from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.errors import PyMongoError

from chat.errors import NotFound, SyncExpired
from chat.extensions import mongo_db
from chat.models import Message
from chat.models.base import utcnow

GRACE = 10.0  # seconds an entry may wait for its entity's write before it is passed over
ARCHIVE_AFTER = 2.0  # seconds an entry stays in its room's log


def room_documents():
    return mongo_db()["rooms"]


def _changes():
    return mongo_db()["changes"]


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
    doc = room_documents().find_one_and_update(
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
    done = room_documents().update_one({"_id": entry.room, "log.id": entry.id}, {"$set": in_log})
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
    return _archive(list(room_documents().find({"_id": room_id}, {"log": 1, "log_base": 1})))


def archive_due(limit: int = 500) -> int:
    """Archive every room whose oldest entry is due, in three round trips whatever the
    number of rooms; how many entries moved."""
    cutoff = utcnow() - timedelta(seconds=ARCHIVE_AFTER)
    query = {"log_since": {"$lt": cutoff}}
    return _archive(list(room_documents().find(query, {"log": 1, "log_base": 1}).limit(limit)))


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
        room_documents().bulk_write(trims, ordered=False)
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
            room_documents().update_one(
                {"_id": room_id},
                {"$set": {"log.$[e].type": "noop"}},
                array_filters=[{"e.ref": {"$in": refs}, "e.type": "message_created"}],
            )


def purge(days: int) -> None:
    """Forget changes older than the retention."""
    _changes().delete_many({"at": {"$lt": utcnow() - timedelta(days=days)}})


# --- reading ---


def entries(room: dict, after: int, limit: int) -> list[dict]:
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


def joined_at(room: dict, user_id: ObjectId) -> int:
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
