"""Search: each message's `terms` (its distinct words, case-folded, without accents)
under a multikey index, newest first; messages from before get theirs here."""

from pymongo import ASCENDING, DESCENDING, UpdateOne

from chat.store.terms import terms

BATCH = 500


def upgrade(db) -> None:
    db.messages.create_index([("terms", ASCENDING), ("_id", DESCENDING)], name="search_terms")
    pending = db.messages.find({"terms": {"$exists": False}}, {"content": 1, "deleted": 1})
    ops = []
    for doc in pending:
        found = [] if doc.get("deleted") else terms(doc.get("content") or "")
        ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"terms": found}}))
        if len(ops) == BATCH:
            db.messages.bulk_write(ops, ordered=False)
            ops = []
    if ops:
        db.messages.bulk_write(ops, ordered=False)
