"""Threads: a thread's replies in order (only replies have `parent_id`), and each
user's threads, the most recently active first."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.messages.create_index(
        [("parent_id", ASCENDING), ("seq", ASCENDING)],
        name="thread_replies",
        partialFilterExpression={"parent_id": {"$exists": True}},
    )
    db.thread_states.create_index(
        [("user", ASCENDING), ("parent", ASCENDING)], name="user_thread", unique=True
    )
    db.thread_states.create_index(
        [("user", ASCENDING), ("last_reply_at", DESCENDING), ("_id", DESCENDING)],
        name="user_threads_recent",
    )
    db.thread_states.create_index([("parent", ASCENDING)], name="thread_members")
