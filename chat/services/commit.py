"""Group commit: the sends waiting in this process share one insert and one room update.

Concurrent sends are combined (services.common.Combiner): one batch numbers each
room's messages after the newest seq known to be stored, inserts them with one
ordered `insert_many`, and moves the rooms with one bulk `$max` update. A sender
returns only once its own message is stored (acks still follow the write); with
no concurrency a batch is just that message.

Seq rules (see messages): a message takes seq N+1 only when N is known stored, so
readers never see a gap that fills later. The insert is ordered, so after a failed
message nothing behind it is stored; the rest are numbered again and retried.
"""

from collections import Counter

import bson
import mongoengine
from pymongo import DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from chat.errors import Conflict, ValidationError
from chat.extensions import WRITER
from chat.models import Message, Room
from chat.services.common import Combiner, Pending

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
    coll = _collection(Message)
    newest: dict = {}  # room -> newest seq known stored
    for p in batch:
        doc, known = p.item
        newest[doc["room"]] = max(
            newest.get(doc["room"], 0), known, _stored_seqs.get(doc["room"], 0)
        )
    todo, stored, clashes = list(batch), [], Counter()
    while todo:
        following = dict(newest)
        for p in todo:
            doc = p.item[0]
            following[doc["room"]] += 1
            doc["seq"] = following[doc["room"]]
            doc.pop("_id", None)
        try:
            coll.insert_many([p.item[0] for p in todo], ordered=True)
            stored += todo
            break
        except BulkWriteError as exc:
            error = exc.details["writeErrors"][0]
            at = error["index"]
        except UNENCODABLE:  # nothing was sent: the documents that cannot be fail alone
            todo = _without_unencodable(todo)
            continue
        stored += todo[:at]
        for p in todo[:at]:
            newest[p.item[0]["room"]] = p.item[0]["seq"]
        failed, todo = todo[at], todo[at + 1 :]
        if error.get("code") != 11000:
            failed.finish(error=OperationFailure(error["errmsg"], error.get("code"), error))
            continue
        if "client_id" in error.get("keyPattern", {}) or "client_id_once" in error["errmsg"]:
            failed.finish(error=DuplicateKeyError(error["errmsg"], 11000, error))
            continue
        clashes[failed] += 1  # another writer took this seq: read how far the room got
        if clashes[failed] >= SEQ_ATTEMPTS:
            failed.finish(error=Conflict("The room is too busy; retry with the same clientId."))
            continue
        room = failed.item[0]["room"]
        newer = coll.find_one(
            {"room": room, "seq": {"$gt": newest[room]}}, {"seq": 1}, sort=[("seq", DESCENDING)]
        )
        newest[room] = newer["seq"] if newer else newest[room] + 1
        todo.insert(0, failed)
    _remember(newest, stored)
    error = _move_rooms(stored)
    for p in stored:
        p.finish(p.item[0], error)


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


def _move_rooms(stored: list[Pending]) -> Exception | None:
    """One `$max` update per room for the stored messages; the error, if any."""
    tops: dict = {}
    for p in stored:
        doc = p.item[0]
        seq, at = tops.get(doc["room"], (0, doc["timestamp"]))
        tops[doc["room"]] = (max(seq, doc["seq"]), max(at, doc["timestamp"]))
    if not tops:
        return None
    updates = [
        UpdateOne({"_id": room}, {"$max": {"last_activity": at, "last_seq": seq}})
        for room, (seq, at) in tops.items()
    ]
    try:
        _collection(Room).bulk_write(updates, ordered=False)
    except Exception as exc:  # stored but unannounced: the client's retry finds it
        return exc
    return None


def _collection(cls):
    """The writer's own small pool: a batch in flight never queues behind reads."""
    return mongoengine.get_db(WRITER)[cls._get_collection_name()]


_committer = Combiner(_commit, max_batch=200)
