"""Message search (GET /api/search/messages): whole words, case- and accent-insensitive,
phrases, prefixes, filters, paging, edits and deletes reflected, only rooms the caller
may read now (RELIABILITY row 36), and bad input refused without a scan."""

import random
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from chat.services import search
from chat.store.terms import terms
from tests.conftest import assert_error

UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture(autouse=True, params=["rooms", "windows", "windows, rooms on the rows"])
def _plan(request, monkeypatch, app):
    """Every test three times: reading the readable rooms' messages (what small servers
    do), and reading the index a time window at a time (what larger ones do) with the
    rooms asked for in each read (a caller in few rooms) or checked on the rows (one in
    many: ROOMS_ASKED); the windows with each caller's rooms kept in memory, as a
    server with its invalidation feed up keeps them (live.roomcache)."""
    if request.param == "rooms":
        yield request.param
        return
    monkeypatch.setattr(search, "ROOM_SCAN", -1)
    if request.param == "windows, rooms on the rows":
        monkeypatch.setattr(search, "ROOMS_ASKED", 0)
    app.extensions["room_cache"].set_live(True)
    try:
        yield request.param
    finally:
        app.extensions["room_cache"].set_live(False)


def _search(caller, q, **query) -> dict:
    return caller.ok("get", "/api/search/messages", query_string={"q": q, **query})


def _ids(caller, q, **query) -> list[str]:
    return [m["id"] for m in _search(caller, q, **query)["messages"]]


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("kitchen")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_words_any_case_and_accent_phrases_and_prefixes(alice, bob, room):
    cafe = alice.send(room, "Café Crème brûlée tonight?")["id"]
    other = bob.send(room, "brulee then creme, not the other way")["id"]
    assert _ids(bob, "cafe") == [cafe] and _ids(bob, "CRÈME") == [other, cafe]
    assert _ids(bob, "caf") == []  # whole words
    assert _ids(bob, "caf*") == [cafe]
    assert _ids(bob, '"creme brulee"') == [cafe]  # in that order
    assert _ids(bob, "brulee creme") == [other, cafe]  # every word, any order
    assert _ids(bob, "creme pizza") == []
    hit = _search(bob, "cafe")["messages"][0]
    assert hit["room"] == {"id": room, "name": "kitchen"} and hit["content"].startswith("Café")


def test_filters_by_room_sender_and_time(alice, bob, room):
    other = alice.create_room("garden")["id"]
    first = alice.send(room, "tomato soup")["id"]
    second = bob.send(room, "tomato salad")["id"]
    third = alice.send(other, "tomato plants")["id"]
    assert _ids(alice, "tomato") == [third, second, first]
    assert _ids(alice, "tomato", roomId=room) == [second, first]
    assert _ids(alice, "tomato", **{"from": bob.id}) == [second]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert _ids(alice, "tomato", after=future) == [] and _ids(alice, "tomato", before=past) == []
    assert len(_ids(alice, "tomato", after=past, before=future)) == 3
    hidden = bob.create_room("secret", isPrivate=True)["id"]
    response = alice.call("get", "/api/search/messages", query_string={"q": "x", "roomId": hidden})
    assert_error(response, 404, "not_found")


def test_edits_and_deletes_are_reflected(alice, bob, room):
    message = alice.send(room, "meet at noon")["id"]
    gone = alice.send(room, "noon is fine")["id"]
    alice.ok("patch", f"/api/messages/{message}", json={"content": "meet at nine"})
    alice.ok("delete", f"/api/messages/{gone}", 204)
    assert _ids(bob, "noon") == [] and _ids(bob, "nine") == [message]


def test_only_rooms_you_are_in_now(alice, bob, make_user, room):
    carol = make_user("carol")
    private = alice.create_room("private", isPrivate=True)["id"]
    alice.send(private, "the password is swordfish")
    public = alice.send(room, "swordfish for dinner")["id"]
    assert _ids(carol, "swordfish") == []  # not a member of either
    carol.ok("post", f"/api/rooms/{room}/join")
    assert _ids(carol, "swordfish") == [public]
    carol.ok("post", f"/api/rooms/{room}/leave", 204)
    assert _ids(carol, "swordfish") == []
    assert _ids(bob, "swordfish") == [public]
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")  # a kick
    assert _ids(bob, "swordfish") == []
    mine = bob.create_room("bobs")["id"]
    fresh = bob.send(mine, "fresh swordfish")["id"]
    assert _ids(bob, "swordfish") == [fresh]  # a new room is searched at once


def test_pages_newest_first(alice, room):
    sent = [alice.send(room, f"lunch number {i}")["id"] for i in range(5)]
    seen, cursor = [], None
    for _ in range(5):
        page = _search(alice, "lunch", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [m["id"] for m in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]


@pytest.mark.parametrize(
    "query",
    [
        {"q": ""},
        {"q": "   "},
        {"q": ".*"},
        {"q": "(((***"},
        {"q": "a*"},
        {"q": "ab* cd"},  # a prefix needs three letters
        {"q": "x" * 201},
        {"q": " ".join(f"w{i}" for i in range(11))},
        {"q": "ok", "cursor": "nope"},
        {"q": "ok", "before": "yesterday"},
        {"q": "ok", "limit": 0},
        {"q": "ok", "from": "not-an-id"},
        {},
    ],
)
def test_bad_queries_are_422(alice, room, query):
    alice.send(room, "ok then")
    response = alice.call("get", "/api/search/messages", query_string=query)
    assert_error(response, 422, "validation_error")


def test_metacharacters_are_just_separators(alice, room):
    found = alice.send(room, "a+b equals c")["id"]
    assert _ids(alice, "a.*b") == [found]  # the words a and b, never a pattern
    assert _ids(alice, "$where") == []


# --- RELIABILITY row 36: random queries against a model of who may read what ---

VOCABULARY = ["Apple", "apfel", "Éclair", "eclairs", "banana", "Bañana", "cherry", "date"]


def _plain(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c)).split()


def _matches(content: str, kind: str, words: list[str]) -> bool:
    said = _plain(content)
    if kind == "words":
        return all(w in said for w in words)
    if kind == "prefix":
        return any(s.startswith(words[0]) for s in said)
    return any(said[i : i + len(words)] == words for i in range(len(said)))


def test_row36_search_never_leaks(make_user, _plan):
    rnd = random.Random(36)
    people = [make_user(name) for name in ("ann", "ben", "cid", "dot")]
    rooms, members, contents = [], {}, {}  # room -> members; message -> (room, content)
    for i in range(6):
        owner = rnd.choice(people)
        room = owner.create_room(f"r{i}", isPrivate=i % 2 == 0)["id"]
        rooms.append(room)
        members[room] = {owner.id}
        for person in people:
            if person.id != owner.id and rnd.random() < 0.5:
                if i % 2 == 0:
                    owner.ok("post", f"/api/rooms/{room}/members", json={"userId": person.id})
                else:
                    person.ok("post", f"/api/rooms/{room}/join")
                members[room].add(person.id)
    by_id = {p.id: p for p in people}
    for _ in range(120):
        room = rnd.choice(rooms)
        sender = by_id[rnd.choice(sorted(members[room]))]
        content = " ".join(rnd.choice(VOCABULARY) for _ in range(rnd.randint(1, 4)))
        contents[sender.send(room, content)["id"]] = (room, content, sender)
    for message_id in rnd.sample(sorted(contents), 30):  # edits and deletes
        room, content, sender = contents[message_id]
        if rnd.random() < 0.5:
            new = " ".join(rnd.choice(VOCABULARY) for _ in range(2))
            sender.ok("patch", f"/api/messages/{message_id}", json={"content": new})
            contents[message_id] = (room, new, sender)
        else:
            sender.ok("delete", f"/api/messages/{message_id}", 204)
            del contents[message_id]
    leaks = misses = 0
    queries = 1000 if _plan == "rooms" else 200  # the same reads, more round trips each
    for i in range(queries):
        for room in rooms if i == queries // 2 else []:  # some leave (an owner stays)
            for person in people:
                leaving = person.id in members[room] and rnd.random() < 0.2
                left = leaving and person.call("post", f"/api/rooms/{room}/leave")
                if left and left.status_code == 204:
                    members[room].discard(person.id)
        person = rnd.choice(people)
        kind = rnd.choice(["words", "words", "prefix", "phrase"])
        if kind == "prefix":
            words = [_plain(rnd.choice(VOCABULARY))[0][: rnd.randint(3, 5)]]
            q = f"{words[0]}*"
        else:
            picked = [rnd.choice(VOCABULARY) for _ in range(rnd.randint(1, 2))]
            words = [w for p in picked for w in _plain(p)]
            q = f'"{" ".join(picked)}"' if kind == "phrase" else " ".join(picked)
        query = {"q": q, "limit": 50}
        mine = [r for r in rooms if person.id in members[r]]
        if mine and rnd.random() < 0.3:
            query["roomId"] = rnd.choice(mine)
        expected = {
            m
            for m, (room, content, _s) in contents.items()
            if person.id in members[room]
            and query.get("roomId", room) == room
            and _matches(content, kind, words)
        }
        got: set[str] = set()
        for _page in range(20):
            page = person.ok("get", "/api/search/messages", query_string=query)
            got |= {m["id"] for m in page["messages"]}
            if not page["nextCursor"]:
                break
            query["cursor"] = page["nextCursor"]
        leaks += len(got - expected)
        misses += len(expected - got)
    print(f"\nrow 36 ({_plan}): {queries} random queries, {leaks} leaks, {misses} misses")
    assert (leaks, misses) == (0, 0)


def test_months_of_history_in_windows(alice, bob, db):
    """Messages spread over 90 days (and one a second ago): every page of every kind of
    query equals the model, newest first, whichever way the server reads them."""
    rnd = random.Random(90)
    now = datetime.now(UTC)
    rooms = [alice.create_room(f"archive{i}")["id"] for i in range(3)]
    bob.ok("post", f"/api/rooms/{rooms[0]}/join")
    db.rooms.update_many({}, {"$set": {"created_at": now - timedelta(days=91)}})
    words = ["alpha", "beta", "gamma", "delta", "omega"]
    model = []  # (id, room, content)
    for seq in range(1, 241):
        room = rooms[seq % 3]
        age = timedelta(seconds=1) if seq == 240 else timedelta(days=rnd.uniform(0, 90))
        stamp = ObjectId.from_datetime(now - age).binary[:4] + rnd.randbytes(8)
        content = " ".join(rnd.choices(words, [8, 4, 2, 1, 0.1], k=rnd.randint(1, 4)))
        doc = {
            "_id": ObjectId(stamp), "room": ObjectId(room), "seq": seq, "content": content,
            "sender": ObjectId(alice.id), "sender_name": "alice", "message_type": "text",
            "timestamp": now - age, "mentions": [], "edited": False,
            "deleted": False, "data": {}, "terms": terms(content),
        }  # fmt: skip
        db.messages.insert_one(doc)
        model.append((str(doc["_id"]), room, content))
    db.rooms.update_many({}, {"$set": {"last_seq": 240, "last_activity": now}})
    model.sort(reverse=True)
    for q, keep in [
        ("alpha", lambda c: "alpha" in c.split()),
        ("omega", lambda c: "omega" in c.split()),
        ("gamma beta", lambda c: {"gamma", "beta"} <= set(c.split())),
        ("alpha delta", lambda c: {"alpha", "delta"} <= set(c.split())),
        ('"beta alpha"', lambda c: "beta alpha" in c),
        ("ome*", lambda c: "omega" in c.split()),
        ("gamm*", lambda c: "gamma" in c.split()),
        ("del* alpha", lambda c: {"delta", "alpha"} <= set(c.split())),
    ]:
        for caller, readable in [(alice, set(rooms)), (bob, {rooms[0]})]:
            expected = [m for m, room, c in model if room in readable and keep(c)]
            query, got = {"q": q, "limit": 7}, []
            for _page in range(60):
                page = _search(caller, **query)
                got += [m["id"] for m in page["messages"]]
                if not page["nextCursor"]:
                    break
                query["cursor"] = page["nextCursor"]
            assert got == expected, q


def test_several_words_are_read_by_the_rarest(alice, room, _plan, monkeypatch):
    """The index is read by the query's rarest word, whatever the words' lengths (a
    short probe counts them): the common word's entries are not walked."""
    leads = []
    windows = search._windows
    monkeypatch.setattr(
        search, "_windows", lambda word, *a, **k: leads.append(word) or windows(word, *a, **k)
    )
    for i in range(12):
        alice.send(room, f"everybody {'ox' if i % 4 == 0 else 'cat'} talks")
    found = _search(alice, "everybody ox")["messages"]
    assert [m["content"] for m in found] == ["everybody ox talks"] * 3
    assert _ids(alice, "ox everybody") == [m["id"] for m in found]
    assert leads == ([] if _plan == "rooms" else ["ox", "ox"])
    assert len(_ids(alice, "talki*")) == 0 and len(_ids(alice, "talk*", limit=50)) == 12
    assert leads[2:] == ([] if _plan == "rooms" else ["tal*", "tal*"])  # words' beginnings


def test_words_few_in_the_newest_time_are_counted_again_further_back(
    alice, room, db, _plan, monkeypatch
):
    """A word rare among the newest messages but common before (apple) is not taken
    for the rarest: the words the short probe found few times are counted again over a
    longer time, where berry is the rarer; the matches are the same either way."""
    leads = []
    windows = search._windows
    monkeypatch.setattr(
        search, "_windows", lambda word, *a, **k: leads.append(word) or windows(word, *a, **k)
    )
    monkeypatch.setattr(search, "PROBE", 40)  # the newest tenth of the 400 below
    now = datetime.now(UTC)
    recent_apple, recent_berry = {3, 17}, {5, 9, 21, 30, 33}
    old_apple, old_berry = set(range(50, 400, 9)), {122, 250, 390}
    both = []
    for age in range(400):  # the newest first, a tenth of a day apart
        said = ["note"]
        said += ["apple"] if age in recent_apple | old_apple else []
        said += ["berry"] if age in recent_berry | old_berry else []
        at = now - timedelta(days=age / 10)
        content = " ".join(said)
        doc = {
            "_id": ObjectId.from_datetime(at), "room": ObjectId(room), "seq": 400 - age,
            "content": content, "sender": ObjectId(alice.id), "sender_name": "alice",
            "message_type": "text", "timestamp": at, "mentions": [],
            "edited": False, "deleted": False, "data": {}, "terms": terms(content),
        }  # fmt: skip
        db.messages.insert_one(doc)
        if "apple" in said and "berry" in said:
            both.append(str(doc["_id"]))
    db.rooms.update_one(
        {"_id": ObjectId(room)},
        {"$set": {"created_at": now - timedelta(days=40), "last_seq": 400, "last_activity": now}},
    )
    assert both  # the ages overlap
    assert _ids(alice, "apple berry", limit=50) == both
    assert leads == ([] if _plan == "rooms" else ["berry"])
