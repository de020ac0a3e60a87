"""Reactions are the reactions plugin's data: they move from the message's own
`reactions` field to its plugin slot `data.reactions` (the core model no longer knows
them). Idempotent: a message already moved has no `reactions` field."""

from pymongo import UpdateOne

BATCH = 500


def upgrade(db) -> None:
    ops = []
    for doc in db["messages"].find({"reactions": {"$exists": True}}, {"reactions": 1}):
        update: dict = {"$unset": {"reactions": ""}}
        if doc["reactions"]:
            update["$set"] = {"data.reactions": doc["reactions"]}
        ops.append(UpdateOne({"_id": doc["_id"]}, update))
        if len(ops) == BATCH:
            db["messages"].bulk_write(ops, ordered=False)
            ops = []
    if ops:
        db["messages"].bulk_write(ops, ordered=False)
