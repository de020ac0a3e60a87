"""What a message is found by: its `terms`, kept in the same write as its content (the
send's insert, the edit's update, the delete's tombstone) under a multikey index on
(terms, _id); services/search.py reads them.

`terms` are the distinct words of the content, case-folded and without accents, its
distinct pairs of neighbouring words, and its words' distinct beginnings of PREFIX_MIN
letters ("dep*").
"""

import re
import unicodedata
from itertools import pairwise

from pymongo import UpdateOne

WORD = re.compile(r"\w+")
MAX_TERMS = 500  # words per message, and as many pairs
TERM_LENGTH = 64
PREFIX_MIN = 3  # letters before '*': a message's terms hold its words' first three


def normalize(text: str) -> str:
    """Case-folded, accents removed (NFKD without combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w[:TERM_LENGTH] for w in WORD.findall(normalize(text))]


def terms(content: str) -> list[str]:
    """What a message is found by: its distinct words; its distinct pairs of
    neighbouring words ("deploy failed"), by which a phrase is found without reading
    every message holding its words; and its words' distinct beginnings ("dep*"), by
    which a prefix is found without reading every message."""
    said = words(content)
    distinct = sorted(set(said))[:MAX_TERMS]
    starts = sorted({start(w) for w in distinct if len(w) >= PREFIX_MIN})
    return distinct + sorted(set(pairs(said)))[:MAX_TERMS] + starts


def start(prefix: str) -> str:
    return prefix[:PREFIX_MIN] + "*"


def pairs(said: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(said)]


def reindex(db, batch: int = 500) -> None:
    """Every live message's `terms` as `terms` makes them now (a migration's, each time
    what a message is found by changes), written where they differ."""
    ops = []
    for doc in db.messages.find({"deleted": {"$ne": True}}, {"content": 1, "terms": 1}):
        found = terms(doc.get("content") or "")
        if found != doc.get("terms"):
            ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"terms": found}}))
        if len(ops) == batch:
            db.messages.bulk_write(ops, ordered=False)
            ops = []
    if ops:
        db.messages.bulk_write(ops, ordered=False)
