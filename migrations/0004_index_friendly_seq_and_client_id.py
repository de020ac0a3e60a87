"""clientId uniqueness with a partial filter equality queries provably imply, and
`rooms.last_seq`: the newest stored seq, a starting point for the next one.

`{"client_id": {"$gt": ""}}` holds for every valid clientId (1-64 printable
characters) and, unlike `$type`, is implied by `client_id: "<value>"`, so the
retry lookup is an index lookup on every engine (SecantusDB scanned the whole
collection for it). The new index is built before the old one is dropped, so a
clientId is never unguarded (two partial indexes on one key pattern with different
filters need MongoDB 5.0 or later).
"""

import contextlib

from pymongo import ASCENDING
from pymongo.errors import OperationFailure


def upgrade(db) -> None:
    db.messages.create_index(
        [("room", ASCENDING), ("sender", ASCENDING), ("client_id", ASCENDING)],
        unique=True,
        partialFilterExpression={"client_id": {"$gt": ""}},
        name="client_id_once",
    )
    with contextlib.suppress(OperationFailure):  # gone already: another process ran this
        db.messages.drop_index("client_id_unique")
    newest = db.messages.aggregate([{"$group": {"_id": "$room", "seq": {"$max": "$seq"}}}])
    for room in newest:
        db.rooms.update_one({"_id": room["_id"]}, {"$max": {"last_seq": room["seq"]}})
