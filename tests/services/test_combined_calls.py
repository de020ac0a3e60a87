"""Combined database calls: sends that wait together are stored together (gap-free,
once each), and room reads that wait together are answered by one fresh read."""

import threading
import time
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from flask_jwt_extended import decode_token

from chat.errors import ValidationError
from chat.services import auth, presence, rooms
from chat.store import commit
from chat.store.combine import Combiner
from tests.conftest import Caller


@pytest.fixture(params=["one round trip", "two round trips"])
def round_trips(request):
    """The group commit's two ways to store a batch and move its rooms: MongoDB 8.0's
    client bulkWrite (SecantusDB has it), and insert_many then update (older servers)."""
    saved = commit._one_round_trip[0]
    commit._one_round_trip[0] = request.param == "one round trip"
    yield request.param
    commit._one_round_trip[0] = saved


def _send_all(app, callers_and_bodies: list[tuple[Caller, dict]], combiner=None, meanwhile=None):
    """POST every body at once from its own thread while the combiner (the group
    commit by default) is held, so they all queue up; run `meanwhile`, then let one
    batch serve them. Returns the responses."""
    combiner = combiner or commit._committer
    responses = [None] * len(callers_and_bodies)

    def send(i, caller, body):
        response = app.test_client().post("/api/messages", json=body, headers=caller.headers)
        responses[i] = (response.status_code, response.get_json())

    threads = [
        threading.Thread(target=send, args=(i, caller, body))
        for i, (caller, body) in enumerate(callers_and_bodies)
    ]
    with combiner._run_lock:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while combiner.queued() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert combiner.queued() == len(threads)
        if meanwhile:
            meanwhile()
    for t in threads:
        t.join(20)
    return responses


def test_a_batch_of_sends_is_stored_gap_free_with_one_message_per_client_id(
    app, db, alice, bob, round_trips
):
    room = alice.create_room("batch")["id"]
    other = alice.create_room("other")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    bodies = [(alice, {"roomId": room, "content": f"a{i}", "clientId": f"a{i}"}) for i in range(6)]
    bodies += [(bob, {"roomId": room, "content": f"b{i}"}) for i in range(4)]
    bodies += [(alice, {"roomId": other, "content": "elsewhere"})]
    bodies += [(alice, {"roomId": room, "content": "a0", "clientId": "a0"})]

    responses = _send_all(app, bodies)

    statuses = sorted(status for status, _ in responses)
    assert statuses == [200] + [201] * 11  # the repeated clientId is a retry
    first = [
        body
        for (_caller, sent), (_, body) in zip(bodies, responses, strict=True)
        if sent.get("clientId") == "a0"
    ]
    assert first[0]["id"] == first[1]["id"]
    history = alice.history(room, limit=50)["messages"]
    assert [m["seq"] for m in history] == list(range(1, 11))
    assert sorted(m["content"] for m in history) == sorted(
        [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(4)]
    )
    assert [m["seq"] for m in alice.history(other)["messages"]] == [1]
    rooms = {str(r["_id"]): r["last_seq"] for r in db.rooms.find()}
    assert rooms == {room: 10, other: 1}


def test_a_batch_that_meets_another_writers_seq_renumbers_without_gaps(app, db, alice, round_trips):
    room = alice.create_room("busy")["id"]
    cursor = alice.ok("get", "/api/sync")["cursor"]
    alice.send(room, "before")  # seq 1, the room's last_seq is 1
    # Another process stores seq 2 and 3 without moving the room yet.
    for seq in (2, 3):
        db.messages.insert_one(
            {
                "room": ObjectId(room),
                "seq": seq,
                "sender": ObjectId(alice.id),
                "sender_name": alice.username,
                "content": f"other process {seq}",
                "message_type": "text",
                "timestamp": datetime.now(UTC),
                "mentions": [],
                "edited": False,
                "deleted": False,
                "data": {},
            }
        )

    clashes = app.extensions["metrics"].seq_clashes
    before = clashes._value.get()
    responses = _send_all(app, [(alice, {"roomId": room, "content": f"m{i}"}) for i in range(5)])
    assert clashes._value.get() > before  # chat_seq_clashes_total in /metrics

    assert [status for status, _ in responses] == [201] * 5
    assert sorted(body["seq"] for _, body in responses) == [4, 5, 6, 7, 8]
    history = alice.history(room)["messages"]
    assert [m["seq"] for m in history] == list(range(1, 9))
    assert db.rooms.find_one({"_id": ObjectId(room)})["last_seq"] == 8
    # the attempts that clashed left log entries naming no message: cancelled, so a
    # syncing client gets every stored message at once (none waits out the grace)
    synced = alice.ok("get", "/api/sync", query_string={"since": cursor, "limit": 50})
    created = [c["data"]["message"]["content"] for c in synced["changes"]]
    assert created == ["before"] + [
        b["content"] for _, b in sorted(responses, key=lambda r: r[1]["seq"])
    ]


def test_room_reads_queued_before_a_kick_are_answered_after_it(app, db, alice, bob, make_user):
    room = alice.create_room("readers")["id"]
    carol = make_user("carol")
    for member in (bob, carol):
        member.ok("post", f"/api/rooms/{room}/join")

    def kick_bob():  # another process removes bob while the reads wait
        db.rooms.update_one({"_id": ObjectId(room)}, {"$pull": {"participants": ObjectId(bob.id)}})

    sends = [(m, {"roomId": room, "content": f"from {m.username}"}) for m in (alice, bob, carol)]
    responses = _send_all(app, sends, combiner=rooms._room_reads.combiner, meanwhile=kick_bob)

    assert [status for status, _ in responses] == [201, 403, 201]
    assert sorted(m["content"] for m in alice.history(room)["messages"]) == [
        "from alice",
        "from carol",
    ]


def test_callers_served_by_a_batch_leave_without_running_the_next_one():
    log: list[str] = []

    def slow_batch(batch):
        log.append(f"batch of {len(batch)} starts")
        time.sleep(0.3)  # the database at work
        for p in batch:
            p.finish(p.item * 2)
        log.append("batch ends")

    combiner = Combiner(slow_batch)
    results: dict[int, int] = {}

    def call(i: int) -> None:
        results[i] = combiner.submit(i)
        log.append(f"caller {i} returns")

    def start(ids: range) -> list[threading.Thread]:
        threads = [threading.Thread(target=call, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        while combiner.queued() < len(threads):
            time.sleep(0.005)
        return threads

    with combiner._run_lock:
        first = start(range(5))
    while not log:
        time.sleep(0.005)
    second = start(range(5, 10))  # queued while the first batch is in flight
    for t in first + second:
        t.join(10)

    assert results == {i: i * 2 for i in range(10)}
    assert log[0] == "batch of 5 starts" and log.count("batch of 5 starts") == 2
    second_batch_ends = len(log) - 1 - log[::-1].index("batch ends")
    first_returns = [log.index(f"caller {i} returns") for i in range(5)]
    assert max(first_returns) < second_batch_ends  # nobody served waits for the next batch


def test_a_document_that_cannot_be_stored_fails_alone(app, db, alice, round_trips):
    """RELIABILITY row 31 below the schemas: a lone surrogate or a number BSON cannot hold
    (from a plugin's data, say) used to fail every send of its batch."""
    room = ObjectId(alice.create_room("poison")["id"])

    def doc(content: str, **extra) -> dict:
        now = datetime.now(UTC)
        base = {"room": room, "sender": ObjectId(alice.id), "content": content, "timestamp": now}
        return {**base, **extra}

    docs = [doc(f"ok {i}") for i in range(6)]
    docs.insert(2, doc("bad \udc00"))
    docs.insert(5, doc("big", data={"n": 10**30}))
    results: list = [None] * len(docs)

    def store(i: int) -> None:
        try:
            results[i] = commit.store(docs[i], 0)
        except Exception as exc:  # the refusal is the result here
            results[i] = exc

    threads = [threading.Thread(target=store, args=(i,)) for i in range(len(docs))]
    with commit._committer._run_lock:  # all queue up, then one batch serves them
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while commit._committer.queued() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(20)
    refused = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert refused == [2, 5]
    assert all(isinstance(results[i], ValidationError) for i in refused)
    stored = sorted((m["seq"], m["content"]) for m in db.messages.find({"room": room}))
    assert [seq for seq, _ in stored] == [1, 2, 3, 4, 5, 6]
    assert sorted(content for _, content in stored) == [f"ok {i}" for i in range(6)]


def test_session_checks_queued_before_a_logout_are_answered_after_it(app, db, alice, bob):
    """Every request reads its session; concurrent ones share one read,
    and a logout that lands while they wait is seen by that read."""
    room = alice.create_room("sessions")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    with app.app_context():
        bob_session = decode_token(bob.session["accessToken"])["sid"]

    def log_bob_out():  # another process revokes bob's session while the checks wait
        db.sessions.delete_one({"_id": bob_session})

    sends = [(m, {"roomId": room, "content": f"from {m.username}"}) for m in (alice, bob, alice)]
    responses = _send_all(app, sends, combiner=auth._session_reads.combiner, meanwhile=log_bob_out)

    assert [status for status, _ in responses] == [201, 401, 201]
    assert [m["content"] for m in alice.history(room)["messages"]] == ["from alice"] * 2


def test_room_lists_read_together_go_each_to_their_own_user(app, alice, bob, make_user):
    """A reconnect storm reads every connecting user's rooms in one query; each socket
    still joins exactly its own user's rooms."""
    carol = make_user("carol")
    shared, own = alice.create_room("shared")["id"], alice.create_room("own")["id"]
    bob.ok("post", f"/api/rooms/{shared}/join")
    users = [alice, bob, carol, alice]
    found: list = [None] * len(users)

    def read(i: int) -> None:
        with app.app_context():
            found[i] = sorted(presence.user_room_ids(users[i].id))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(users))]
    with presence._room_ids._run_lock:
        for t in threads:
            t.start()
        while presence._room_ids.queued() < len(threads):
            time.sleep(0.01)
    for t in threads:
        t.join(20)

    assert found == [sorted([shared, own]), [shared], [], sorted([shared, own])]
