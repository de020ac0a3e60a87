"""Message search on every supported database (SecantusDB has no `$text`).

Each message stores `terms`: the distinct words of its content, case-folded and without
accents, kept in the same write as the content (the send's insert, the edit's update,
the delete's tombstone). A multikey index on (terms, _id) answers a query's words
(`$all`) and prefixes (a range on the index) newest first; quoted phrases are checked
on the candidates. Only rooms the caller is a member of now are searched (history's
rule), and one request examines at most SCAN_CAP candidates: a query matching much
in rooms the caller cannot read pages on with `nextCursor` instead of scanning on.
"""

import re
import unicodedata
from datetime import datetime

from bson import ObjectId

from chat import wire
from chat.errors import ValidationError
from chat.models import Message, Room, User
from chat.services.rooms import get_member_room

WORD = re.compile(r"\w+")
PART = re.compile(r'"([^"]*)"|(\S+)')
MAX_TERMS = 500  # per message
TERM_LENGTH = 64
QUERY_TERMS = 10
PREFIX_MIN = 2
SCAN_CAP = 2000  # candidates examined per request


def normalize(text: str) -> str:
    """Case-folded, accents removed (NFKD without combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w[:TERM_LENGTH] for w in WORD.findall(normalize(text))]


def terms(content: str) -> list[str]:
    """What a message is found by: its distinct words."""
    return sorted(set(words(content)))[:MAX_TERMS]


def _parse(q: str) -> tuple[list[str], list[str], list[list[str]]]:
    """(whole words, prefixes, phrases) of a query; 422 when it asks for nothing."""
    exact, prefixes, phrases = [], [], []
    for phrase, token in PART.findall(q):
        if phrase:
            found = words(phrase)
            exact += found
            if len(found) > 1:
                phrases.append(found)
            continue
        found = words(token)
        if token.endswith("*") and found:
            *found, prefix = found
            if len(prefix) < PREFIX_MIN:
                raise _bad(f"A prefix needs at least {PREFIX_MIN} letters before '*'.")
            prefixes.append(prefix)
        exact += found
    exact = list(dict.fromkeys(exact))
    if not exact and not prefixes:
        raise _bad("Nothing to search for: give a word.")
    if len(exact) + len(prefixes) > QUERY_TERMS:
        raise _bad(f"At most {QUERY_TERMS} words.")
    return exact, prefixes, phrases


def _bad(message: str) -> ValidationError:
    return ValidationError(fields={"q": [message]})


def search(
    actor: User,
    q: str,
    limit: int = 20,
    room_id: str | None = None,
    sender: str | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    cursor: str | None = None,
) -> dict:
    """Messages matching `q` in rooms the actor may read now, newest first:
    {messages: [message + room {id, name}], nextCursor}."""
    exact, prefixes, phrases = _parse(q)
    if room_id is not None:
        rooms = [get_member_room(actor, room_id).id]
    else:
        readable = Room._get_collection().find({"participants": actor.id}, {"_id": 1})
        rooms = [r["_id"] for r in readable]
    # $elemMatch: one word must be in the range (two bounds on an array match apart)
    ranges = [{"$elemMatch": {"$gte": p, "$lt": p + "\U0010ffff"}} for p in prefixes]
    # One condition on `terms` first in the query (the longest word, likely the rarest):
    # the index is walked by it (SecantusDB plans by the first condition and only this
    # shape well); the rest filter.
    query: dict = {"terms": max(exact, key=len) if exact else ranges.pop(0)}
    query |= {"room": {"$in": rooms}, "deleted": False}
    clauses: list[dict] = [{"terms": {"$all": exact}}] if len(exact) > 1 else []
    clauses += [{"terms": r} for r in ranges]
    if clauses:
        query["$and"] = clauses
    if sender is not None:
        query["sender"] = ObjectId(sender)
    ids: dict = {}
    if after is not None:
        ids["$gt"] = ObjectId.from_datetime(after)
    if before is not None:
        ids["$lt"] = ObjectId.from_datetime(before)
    if cursor is not None:
        if not ObjectId.is_valid(cursor):
            raise ValidationError(fields={"cursor": ["Unknown cursor."]})
        ids["$lt"] = min(ids.get("$lt", ObjectId(cursor)), ObjectId(cursor))
    if ids:
        query["_id"] = ids
    found, last, examined = [], None, 0
    for doc in Message._get_collection().find(query).sort("_id", -1).limit(SCAN_CAP):
        examined += 1
        last = doc["_id"]
        if all(_has_phrase(doc.get("content", ""), p) for p in phrases):
            found.append(doc)
            if len(found) == limit:
                break
    more = len(found) == limit or examined == SCAN_CAP
    messages = [Message._from_son(d) for d in found]
    names = {r.id: r.name for r in Room.objects(id__in=list({m.room for m in messages}))}
    page = wire.message_page(messages, False)["messages"]
    for shown, message in zip(page, messages, strict=True):
        shown["room"] = {"id": str(message.room), "name": names.get(message.room, "")}
    return {"messages": page, "nextCursor": str(last) if more and last else None}


def _has_phrase(content: str, phrase: list[str]) -> bool:
    said, size = words(content), len(phrase)
    return any(said[i : i + size] == phrase for i in range(len(said) - size + 1))
