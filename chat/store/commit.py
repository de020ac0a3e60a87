"""Group commit: the sends waiting in this process share one insert and one room update.

Concurrent sends are combined (store.combine.Combiner): one batch numbers each
room's messages after the newest seq known to be stored, inserts them in order, and
moves the rooms with one `$max` update each; on MongoDB 8.0+ (and SecantusDB) both go
in one client-level `bulkWrite`, the updates after the inserts. A sender returns only
once its own message is stored (acks still follow the write); with no concurrency a
batch is just that message.

Seq rules (see messages): a message takes seq N+1 only when N is known stored, so
readers never see a gap that fills later. The insert is ordered, so after a failed
message nothing behind it is stored; the rest are numbered again and retried.
"""

from collections import Counter

import bson
import mongoengine
from bson import ObjectId
from pymongo import DESCENDING, InsertOne, UpdateOne
from pymongo.errors import (
    BulkWriteError,
    ClientBulkWriteException,
    DuplicateKeyError,
    InvalidOperation,
    OperationFailure,
)

from chat.errors import Conflict, ValidationError
from chat.extensions import WRITER
from chat.metrics import count
from chat.models import Message, Room
from chat.store import changelog
from chat.store.combine import Combiner, Pending

SEQ_ATTEMPTS = 50
UNENCODABLE = (bson.errors.BSONError, UnicodeEncodeError, OverflowError)
STORED_ROOMS = 10_000

# room -> the newest seq this process stored there. A send's `known` (the room's
# last_seq) was read before it queued, so under load it lags what the batches
# before it stored; starting from this avoids a clash per room per batch.
_stored_seqs: dict = {}


def store(doc: dict, known: int) -> dict:
    """Insert `doc` with its room's next seq; returns it with `seq` and `_id` set.

    Args:
        known: a seq already stored in the doc's room (the room's `last_seq`).
    Raises:
        DuplicateKeyError: this sender already used the doc's clientId in the room.
        Conflict: the room's seq clashed SEQ_ATTEMPTS times (another writer).
    """
    return _committer.submit((doc, known))


def _commit(batch: list[Pending]) -> None:
    """Store the batch; every entry ends finished, with its doc stored or an error."""
    count("commit_batch", len(batch))
    newest: dict = {}  # room -> newest seq known stored
    for p in batch:
        doc, known = p.item
        newest[doc["room"]] = max(
            newest.get(doc["room"], 0), known, _stored_seqs.get(doc["room"], 0)
        )
    todo, stored, clashes = list(batch), list[Pending](), Counter[Pending]()
    moved: tuple[bool, Exception | None] = (False, None)  # rooms moved by the insert?
    while todo:
        following = dict(newest)
        for p in todo:
            doc = p.item[0]
            following[doc["room"]] += 1
            doc["seq"] = following[doc["room"]]
            doc["_id"] = ObjectId()  # a new one each attempt: its log entry names it
        try:
            moved = (_insert(todo, stored), None)
            stored += todo
            break
        except (BulkWriteError, ClientBulkWriteException) as exc:
            error, failure = _first_error(exc), exc
            at = error.get("index", error.get("idx"))
            logged = getattr(exc, "logged", 0)  # room-log updates before the inserts
            if at is None or at < logged:  # no insert of ours failed: the operation did
                raise
            at -= logged
        except UNENCODABLE:  # nothing was sent: the documents that cannot be fail alone
            todo = _without_unencodable(todo)
            continue
        if at >= len(todo):  # every message is stored; the rooms' move failed
            stored += todo
            moved = (True, failure)
            break
        stored += todo[:at]
        for p in todo[:at]:
            newest[p.item[0]["room"]] = p.item[0]["seq"]
        changelog.cancel_created([p.item[0] for p in todo[at:]])  # none of them was stored
        failed, todo = todo[at], todo[at + 1 :]
        if error.get("code") != 11000:
            failed.finish(error=OperationFailure(error["errmsg"], error.get("code"), error))
            continue
        if "client_id" in error.get("keyPattern", {}) or "client_id_once" in error["errmsg"]:
            failed.finish(error=DuplicateKeyError(error["errmsg"], 11000, error))
            continue
        clashes[failed] += 1  # another writer took this seq: read how far the room got
        count("seq_clashes")
        if clashes[failed] >= SEQ_ATTEMPTS:
            failed.finish(error=Conflict("The room is too busy; retry with the same clientId."))
            continue
        room = failed.item[0]["room"]
        newer = _collection(Message).find_one(
            {"room": room, "seq": {"$gt": newest[room]}}, {"seq": 1}, sort=[("seq", DESCENDING)]
        )
        newest[room] = newer["seq"] if newer else newest[room] + 1
        todo.insert(0, failed)
    _remember(newest, stored)
    room_error = moved[1] if moved[0] else _move_rooms(stored)
    for p in stored:
        p.finish(p.item[0], room_error)


def _first_error(exc: BulkWriteError | ClientBulkWriteException) -> dict:
    errors = exc.details.get("writeErrors") or [{}]
    return errors[0] if isinstance(errors, list) else next(iter(errors.values()))


# MongoDB 8.0's client-level bulkWrite stores a batch's messages and moves their rooms
# in one round trip (a third of a send's database time); older servers get two.
_one_round_trip = [True]


def _log_entries(docs: list[dict]) -> list[tuple[dict, dict]]:
    """Each room's `message_created` entries (store/changelog), appended before the
    inserts: a stored message always has its rev (an entry whose insert then failed
    names no message, and readers pass it over)."""
    entries: dict = {}
    for doc in docs:
        entries.setdefault(doc["room"], []).append(
            changelog.new_entry("message_created", doc["_id"])
        )
    return [({"_id": room}, changelog.append_update(e)) for room, e in entries.items()]


def _insert(todo: list[Pending], stored: list[Pending]) -> bool:
    """Append `todo`'s change-log entries, then insert `todo` in order; with one round
    trip, also move the rooms of everything stored so far and `todo` (after the
    inserts, so only once they all succeeded). Returns whether the rooms were moved."""
    docs = [p.item[0] for p in todo]
    logs = _log_entries(docs)
    if _one_round_trip[0]:
        messages, rooms = _namespace(Message), _namespace(Room)
        ops: list[InsertOne | UpdateOne] = [UpdateOne(q, u, namespace=rooms) for q, u in logs]
        ops += [InsertOne(doc, namespace=messages) for doc in docs]
        ops += [
            UpdateOne(query, update, namespace=rooms)
            for query, update in _room_moves(stored + todo)
        ]
        try:
            mongoengine.get_connection(WRITER).bulk_write(ops, ordered=True)
            return True
        except InvalidOperation:  # before 8.0: nothing was sent
            _one_round_trip[0] = False
        except ClientBulkWriteException as exc:
            if isinstance(exc.error, Exception):  # the database is gone, say: as such
                raise exc.error from None
            exc.logged = len(logs)  # type: ignore[attr-defined]
            raise
    _collection(Room).bulk_write([UpdateOne(q, u) for q, u in logs], ordered=False)
    _collection(Message).insert_many(docs, ordered=True)
    return False


def _without_unencodable(todo: list[Pending]) -> list[Pending]:
    """Finish (with a validation error) every document BSON cannot encode; the rest.

    Schemas refuse such input first; this keeps one document that slipped through
    (a plugin's field, say) from failing every send in its batch."""
    keep = []
    for p in todo:
        try:
            bson.encode(p.item[0])
            keep.append(p)
        except UNENCODABLE:
            p.finish(error=ValidationError("This message cannot be stored."))
    if len(keep) == len(todo):  # no single document is to blame: fail them all
        raise RuntimeError("a batch failed to encode, yet every document encodes")
    return keep


def _remember(newest: dict, stored: list[Pending]) -> None:
    for p in stored:  # the last insert's messages are not in `newest` yet
        doc = p.item[0]
        newest[doc["room"]] = max(newest[doc["room"]], doc["seq"])
    if len(_stored_seqs) > STORED_ROOMS:
        _stored_seqs.clear()  # only a head start: a clash reads the truth
    _stored_seqs.update(newest)


def _room_moves(stored: list[Pending]) -> list[tuple[dict, dict]]:
    """One `$max` update per room of the stored messages: (filter, update) pairs."""
    tops: dict = {}
    for p in stored:
        doc = p.item[0]
        seq, at = tops.get(doc["room"], (0, doc["timestamp"]))
        tops[doc["room"]] = (max(seq, doc["seq"]), max(at, doc["timestamp"]))
    return [
        ({"_id": room}, {"$max": {"last_activity": at, "last_seq": seq}})
        for room, (seq, at) in tops.items()
    ]


def _move_rooms(stored: list[Pending]) -> Exception | None:
    """The rooms' move in its own round trip; the error, if any."""
    moves = _room_moves(stored)
    if not moves:
        return None
    try:
        _collection(Room).bulk_write([UpdateOne(q, u) for q, u in moves], ordered=False)
    except Exception as exc:  # stored but unannounced: the client's retry finds it
        return exc
    return None


def _collection(cls):
    """The writer's own small pool: a batch in flight never queues behind reads."""
    return mongoengine.get_db(WRITER)[cls._get_collection_name()]


def _namespace(cls) -> str:
    return f"{mongoengine.get_db(WRITER).name}.{cls._get_collection_name()}"


_committer = Combiner(_commit, max_batch=200)
