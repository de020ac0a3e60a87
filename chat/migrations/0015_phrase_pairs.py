"""Search: a message's `terms` also hold its pairs of neighbouring words, by which a
phrase is found (services/search); messages from before get theirs here."""

from pymongo import UpdateOne

from chat.services.search import terms

BATCH = 500


def upgrade(db) -> None:
    live = db.messages.find({"deleted": {"$ne": True}}, {"content": 1, "terms": 1})
    ops = []
    for doc in live:
        found = terms(doc.get("content") or "")
        if found != doc.get("terms"):
            ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"terms": found}}))
        if len(ops) == BATCH:
            db.messages.bulk_write(ops, ordered=False)
            ops = []
    if ops:
        db.messages.bulk_write(ops, ordered=False)
