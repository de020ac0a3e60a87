"""Message search on every supported database (SecantusDB has no `$text`).

Each message stores `terms`: the distinct words of its content, case-folded and without
accents, its distinct pairs of neighbouring words, and its words' distinct beginnings
of PREFIX_MIN letters ("dep*"), kept in the same write as the content (the send's
insert, the edit's update, the delete's tombstone), under a multikey index on (terms,
_id). Only rooms the caller is a member of now are searched (history's rule; the
caller's rooms come from memory while no room changes, see live.roomcache). A query
reads the smaller side: the readable rooms' messages when they are few (ROOM_SCAN), else
the index by one term (a phrase's longest pair, else its rarest word or beginning,
found by a short probe), one time window of `_id`s at a time from the newest (a
database that cannot walk a posting list in `_id` order, SecantusDB, then never gathers
and sorts a whole one). The other terms, and a longer prefix's range, filter in the
database, and the rooms when the caller is in few (else they are checked on the rows);
the order of a phrase of three words or more is checked on the candidates.
One request looks at no more than SCAN_CAP candidates and pages on with `nextCursor`.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from chat import wire
from chat.actor import Actor
from chat.errors import ValidationError
from chat.models import Message, Room
from chat.services.rooms import MEMBER_ROOM_FIELDS, get_member_room, member_rooms
from chat.store import terms

PART = re.compile(r'"([^"]*)"|(\S+)')
QUERY_TERMS = 10
SCAN_CAP = 2000  # candidates looked at per request
ROOM_SCAN = 5000  # readable messages (by seq) read directly, without windows
WINDOW_GROWTH = 64
ROOMS_ASKED = 64  # rooms sent with each read; more are checked on the rows
PROBE = 500  # messages' worth of time in which a query's words are counted first
PROBE_WIDER = 8  # how much longer a time the words found too few times are counted in
PROBE_ENOUGH = 16  # entries that tell a word's share well enough
PROBE_ROWS = 256  # entries counted per word, at most
SPREAD = 16  # how much rarer than its rarest word a query is taken to be, at most
SECOND = timedelta(seconds=1)  # `_id`s count seconds
UNSTORED = {"terms": 0}  # not part of a result (and SecantusDB sorts the rest faster)


def _parse(q: str) -> tuple[list[str], list[str], list[list[str]]]:
    """(terms every match holds, prefixes longer than their term, phrases) of a query;
    422 when it asks for nothing."""
    exact, prefixes, phrases = [], [], []
    for phrase, token in PART.findall(q):
        if phrase:
            found = terms.words(phrase)
            exact += found
            if len(found) > 1:
                phrases.append(found)
            continue
        found = terms.words(token)
        if token.endswith("*") and found:
            *found, prefix = found
            if len(prefix) < terms.PREFIX_MIN:
                raise _bad(f"A prefix needs at least {terms.PREFIX_MIN} letters before '*'.")
            prefixes.append(prefix)
        exact += found
    if not exact and not prefixes:
        raise _bad("Nothing to search for: give a word.")
    if len(set(exact)) + len(prefixes) > QUERY_TERMS:
        raise _bad(f"At most {QUERY_TERMS} words.")
    exact += [p for phrase in phrases for p in terms.pairs(phrase)] + [
        terms.start(p) for p in prefixes
    ]
    longer = [p for p in prefixes if len(p) > terms.PREFIX_MIN]
    return list(dict.fromkeys(exact)), longer, phrases


def _bad(message: str) -> ValidationError:
    return ValidationError(fields={"q": [message]})


def search(
    actor: Actor,
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
        get_member_room(actor, room_id, "search_messages")
        fields = MEMBER_ROOM_FIELDS
        readable = list(Room._get_collection().find({"_id": ObjectId(room_id)}, fields))
    else:
        readable = member_rooms(actor)
    rooms = [r["_id"] for r in readable]
    if not rooms:
        return {"messages": [], "nextCursor": None}
    # every term, and a word in each longer prefix's range ($elemMatch: one word must
    # be in it; two bounds on an array match apart)
    held: list[dict] = [{"terms": t} for t in exact]
    held += [{"terms": {"$elemMatch": {"$gte": p, "$lt": p + "\U0010ffff"}}} for p in prefixes]
    rest: dict = {"sender": ObjectId(sender)} if sender is not None else {}
    upper = ObjectId.from_datetime(before) if before is not None else None
    if cursor is not None:
        if not ObjectId.is_valid(cursor):
            raise ValidationError(fields={"cursor": ["Unknown cursor."]})
        upper = min(upper or ObjectId(cursor), ObjectId(cursor))
    floor = ObjectId.from_datetime(after) if after is not None else None
    # The smaller side is read: the readable rooms' messages when they are few, else
    # the word's entries in the index, a time window at a time.
    if sum(r.get("last_seq", 0) for r in readable) <= ROOM_SCAN:
        where = _matching(held, rest | _readable(rooms))
        batches = _whole(where, upper, floor, SCAN_CAP if phrases else limit)
    elif phrases:  # by the longest pair; the order of longer phrases checked on reading
        lead = max((t for t in exact if " " in t), key=len)
        span = _span(readable, upper, floor)
        where = _matching(held, rest, lead)
        batches = _windows(lead, where, rooms, upper, span, limit, 4 * limit)
    else:
        span = _span(readable, upper, floor)
        lead, share = _rarest(exact, upper, span)
        batches = _windows(
            lead, _matching(held, rest, lead), rooms, upper, span, limit, limit, share
        )
    found, last, examined = [], None, 0
    for batch, bound in batches:
        for doc in batch:
            examined += 1
            if all(_has_phrase(doc.get("content", ""), p) for p in phrases):
                found.append(doc)
                if len(found) == limit:
                    last = doc["_id"]
                    break
        else:
            last = bound  # everything newer than `bound` has been looked at
            if examined < SCAN_CAP:
                continue
        break
    messages = [Message._from_son(d) for d in found]
    shown_rooms = {"_id": {"$in": list({m.room for m in messages})}}
    names = {r["_id"]: r["name"] for r in Room._get_collection().find(shown_rooms, {"name": 1})}
    page = wire.message_page(messages, False)["messages"]
    for shown, message in zip(page, messages, strict=True):
        shown["room"] = {"id": str(message.room), "name": names.get(message.room, "")}
    return {"messages": page, "nextCursor": str(last) if last else None}


def _matching(held: list[dict], rest: dict, lead: str | None = None) -> dict:
    """The filter a read tests each candidate by: the `held` conditions on its terms but
    the one its index read already meets (`lead`; testing it again costs a walk of each
    candidate's terms), first (they reject the most), then `rest`."""
    others = [h for h in held if h != {"terms": lead}]
    return ({"$and": others} if others else {}) | rest


def _readable(rooms: list[ObjectId]) -> dict:
    return {"room": {"$in": rooms}, "deleted": False}


Batches = Iterator[tuple[list[dict], ObjectId | None]]


def _between(upper: ObjectId | None, lower: ObjectId | None) -> dict:
    ids = {"$lt": upper} if upper is not None else {}
    return ids | ({"$gt": lower} if lower is not None else {})


def _whole(rest: dict, upper: ObjectId | None, floor: ObjectId | None, take: int) -> Batches:
    """One read of the readable rooms' messages, newest first, `take` rows at most; the
    bound is the last one read when it returned that many, else None (no more)."""
    query = dict(rest)
    if ids := _between(upper, floor):
        query["_id"] = ids
    docs = list(Message._get_collection().find(query, UNSTORED).sort("_id", -1).limit(take))
    yield docs, docs[-1]["_id"] if len(docs) == take else None


def _span(
    readable: list[dict], upper: ObjectId | None, floor: ObjectId | None
) -> tuple[datetime, datetime, int]:
    """(top, bottom, written): the time the matches can be found in, and how many
    messages the readable rooms hold. From the caller's bound, else the newest message
    of the readable rooms (a send sets its room's activity; a room without messages
    would only add a stretch of none), down to the oldest readable room's creation or
    the caller's floor."""
    now = datetime.now(UTC)
    written = sum(r.get("last_seq", 0) for r in readable)
    if upper is not None:
        top = upper.generation_time
    else:
        sent = [r for r in readable if r.get("last_seq")] or readable
        top = max(_aware(r.get("last_activity") or now) for r in sent)
    bottom = min(_aware(r.get("created_at") or now) for r in readable) - timedelta(minutes=1)
    if floor is not None:
        bottom = max(bottom, floor.generation_time)
    return top, bottom, max(1, written)


def _windows(
    term: str,
    rest: dict,
    rooms: list[ObjectId],
    upper: ObjectId | None,
    span: tuple[datetime, datetime, int],
    want: int,
    take: int,
    share: float = 1.0,
) -> Batches:
    """The matches (of `rest`, in `rooms`) a time window at a time, newest first: a
    window is read through the (terms, _id) index by one term and an `_id` range,
    `take` rows a read. The first window ends at the span's top (everything after it
    included), and would hold `want` messages of the term at the readable rooms'
    average rate and the term's `share` of them (one second at least: `_id`s count
    seconds); the next is sized to hold twice the matches still missing at the rate
    seen so far (at least twice as wide, so a pair of words rare together takes few
    reads; at most WINDOW_GROWTH times wider, that much wider when none matched yet),
    or is all the rest when that rate, counting one match more than seen, promises no
    more than that or the rest is at most twice the next (a rare term: three reads),
    down to the span's bottom. (SecantusDB bounds a multikey index's scan by one of
    the two `_id` bounds: a window costs every entry of the term after its start, so
    few reads matter more than narrow ones.) More than ROOMS_ASKED rooms are checked on
    the rows, not sent with each read, while most rows turn out readable."""
    top, bottom, written = span
    width = max(SECOND, (top - bottom) * want / (written * share))
    seen, covered = 0, timedelta(0)
    readable = set(rooms) if len(rooms) > ROOMS_ASKED else None
    while True:
        start = max(top - width, bottom)
        lower = ObjectId.from_datetime(start)
        window = {"_id": {"$gte": lower} | ({"$lt": upper} if upper is not None else {})}
        query: dict = {"terms": term} | window
        if where := rest if readable is not None else rest | _readable(rooms):
            # conjuncts SecantusDB does not merge (the `$or`): the first is read through
            # the compound index, the rest tested on its rows; MongoDB plans it alike
            query = {"$and": [query, {"$or": [where]}]}
        rows = list(Message._get_collection().find(query, UNSTORED).sort("_id", -1).limit(take))
        docs = rows
        if readable is not None:
            docs = [d for d in rows if d["room"] in readable and not d.get("deleted")]
            if 2 * len(docs) < len(rows):  # mostly rooms the caller cannot read: ask
                readable = None
        seen += len(docs)
        if len(rows) == take:  # more in this window: on after the last row
            upper = rows[-1]["_id"]
            yield docs, upper
            continue
        done = start <= bottom
        yield docs, None if done else lower
        if done:
            return
        covered += top - start
        # the rate is taken as one match more than seen: none in a narrow window is
        # no proof of a rare term, and reading all the rest of a common one is slow
        need = 2 * max(want - seen, 1)  # twice the matches still missing
        if not seen:  # nothing yet: as wide as a window may grow
            width *= WINDOW_GROWTH
        else:  # that many more at this rate, twice as wide at least (few reads)
            width = min(max(covered * need / seen, 2 * width), width * WINDOW_GROWTH)
        left = start - bottom
        if (seen + 1) * left <= need * covered or left <= 2 * width:  # little more: all
            width = left
        top, upper = start, lower


def _rarest(
    words: list[str], upper: ObjectId | None, span: tuple[datetime, datetime, int]
) -> tuple[str, float]:
    """The term to read the index by, and the share of the messages that match them all
    (1 when unknown): the windows read the lead term's entries and filter by the
    others, so a common lead costs many times a rare one. Each term's share is counted
    in the newest PROBE messages' worth of time (one second at least), a short read of
    the index (PROBE_ROWS at most); the terms found fewer than PROBE_ENOUGH times there
    are counted again in a PROBE_WIDER times longer time, and so on up to the whole
    span, so a common term costs a short time's entries and rare ones are still told
    apart (their entries are few, whatever the time). The rarest has the smallest
    share, the longest when they tie. The share of them all is taken as if the terms
    were independent (the product of their shares), but no less than the rarest's over
    SPREAD: related words go together, and a window too wide for them would read many
    of the lead's entries for nothing."""
    if len(words) == 1:
        return words[0], 1.0
    top, bottom, written = span
    whole = max(top - bottom, SECOND)
    length, shares = max(SECOND, whole * PROBE / written), {}
    pending = sorted(words, key=len, reverse=True)
    while pending:
        held = max(1.0, written * min(1.0, length / whole))  # at the mean rate
        ids = {"$gte": ObjectId.from_datetime(top - length)} | ({"$lt": upper} if upper else {})
        counted = {}
        for word in pending:
            probe = Message._get_collection().find({"terms": word, "_id": ids}, {"_id": 1})
            counted[word] = len(list(probe.sort("_id", -1).limit(PROBE_ROWS)))
            shares[word] = min(1.0, max(counted[word], 1) / held)
        if length >= whole:
            break
        pending = [w for w in pending if counted[w] < PROBE_ENOUGH]
        length = min(length * PROBE_WIDER, whole)
    rarest = min(sorted(words, key=len, reverse=True), key=shares.__getitem__)
    joint = 1.0
    for share in shares.values():
        joint *= share
    return rarest, max(joint, shares[rarest] / SPREAD)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _has_phrase(content: str, phrase: list[str]) -> bool:
    said, size = terms.words(content), len(phrase)
    return any(said[i : i + size] == phrase for i in range(len(said) - size + 1))
