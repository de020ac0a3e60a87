"""Two real server processes writing to one room: seq order and idempotency hold."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chat.models import Message
from tests.conftest import PASSWORD
from tests.processes import server


@pytest.fixture
def two_servers(app, base_settings):
    settings = {"MONGODB_URI": base_settings["MONGODB_URI"]}
    with server(settings) as (first, _), server(settings) as (second, _):
        yield first, second


def _session(base: str, username: str) -> requests.Session:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    response = requests.post(f"{base}/api/auth/register", json=body, timeout=10)
    assert response.status_code == 201, response.text
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {response.json()['accessToken']}"
    return http


def test_concurrent_writers_on_two_processes_give_gapless_history(two_servers):
    first, second = two_servers
    http = _session(first, "alice")
    room = http.post(f"{first}/api/rooms", json={"name": "race"}, timeout=10).json()["id"]
    total, writers = 160, 4
    done = threading.Event()

    def write(worker: int) -> None:
        with requests.Session() as own:
            own.headers.update(http.headers)
            for i in range(total // writers):
                base = (first, second)[(worker + i) % 2]
                body = {"roomId": room, "content": f"w{worker}-{i}"}
                assert own.post(f"{base}/api/messages", json=body, timeout=30).status_code == 201

    def read() -> list[int]:
        """Follow the room with `after` cursors, as a client catching up would."""
        seen, cursor, turn = [], None, 0
        while True:
            finished = done.is_set()
            base = (first, second)[turn % 2]
            turn += 1
            query = {"limit": 25, **({"after": cursor} if cursor else {})}
            if cursor is None:
                query = {"limit": 100}
            page = http.get(f"{base}/api/messages/{room}", params=query, timeout=30).json()
            if cursor is None and page["messages"]:
                page["messages"] = page["messages"][:1]  # start from the very first message
            seen += [m["seq"] for m in page["messages"]]
            if page["messages"]:
                cursor = page["messages"][-1]["id"]
            if finished and not page["hasMore"]:
                return seen

    with ThreadPoolExecutor(writers + 1) as pool:
        reader = pool.submit(read)
        for f in [pool.submit(write, w) for w in range(writers)]:
            f.result()
        done.set()
        seen = reader.result()
    stored = sorted(m.seq for m in Message.objects(room=room).only("seq"))
    assert stored == list(range(1, total + 1))
    assert seen == stored, "the reader saw a gap, a duplicate or a reordering"


def test_client_id_retries_on_two_processes_store_once(two_servers):
    first, second = two_servers
    http = _session(first, "bob")
    room = http.post(f"{first}/api/rooms", json={"name": "retries"}, timeout=10).json()["id"]
    for attempt in range(15):
        body = {"roomId": room, "content": "retry me", "clientId": f"client-{attempt}"}
        barrier = threading.Barrier(4)

        def send(base, body=body, barrier=barrier):
            barrier.wait()
            return http.post(f"{base}/api/messages", json=body, timeout=30)

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(send, [first, second, first, second]))
        assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
        assert len({r.json()["id"] for r in responses}) == 1
    assert Message.objects(room=room).count() == 15


def test_thread_summaries_stay_exact_under_concurrent_replies(two_servers):
    """Replies from four writers through two processes: the summary counts every one."""
    first, second = two_servers
    writers = [_session(first, name) for name in ("ann", "ben", "cat", "dan")]
    owner = writers[0]
    room = owner.post(f"{first}/api/rooms", json={"name": "busy"}, timeout=10).json()["id"]
    for http in writers[1:]:
        assert http.post(f"{second}/api/rooms/{room}/join", timeout=10).status_code == 200
    body = {"roomId": room, "content": "topic"}
    parent = owner.post(f"{first}/api/messages", json=body, timeout=10).json()["id"]
    each = 15
    barrier = threading.Barrier(len(writers))

    def reply(worker: int) -> list[str]:
        barrier.wait()
        ids = []
        for i in range(each):
            base = (first, second)[(worker + i) % 2]
            body = {"roomId": room, "content": f"{worker}-{i}", "parentId": parent}
            response = writers[worker].post(f"{base}/api/messages", json=body, timeout=30)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    with ThreadPoolExecutor(len(writers)) as pool:
        sent = [i for ids in pool.map(reply, range(len(writers))) for i in ids]
    # one reply deleted while another writer replies: still exact
    with ThreadPoolExecutor(2) as pool:
        gone = pool.submit(owner.delete, f"{first}/api/messages/{sent[0]}", timeout=10)
        body = {"roomId": room, "content": "late", "parentId": parent}
        late = pool.submit(writers[2].post, f"{second}/api/messages", json=body, timeout=10)
        assert gone.result().status_code == 204 and late.result().status_code == 201
    total = len(sent)  # minus the deleted one, plus the late one
    for base in (first, second):
        (shown,) = owner.get(f"{base}/api/messages/{room}", timeout=10).json()["messages"]
        assert shown["thread"]["replyCount"] == total
        assert len(shown["thread"]["participants"]) == len(writers)
        page = owner.get(
            f"{base}/api/messages/{parent}/thread", params={"limit": 100}, timeout=10
        ).json()["messages"]
        seqs = [m["seq"] for m in page]
        assert len(page) == total + 1 and seqs == sorted(seqs)  # the tombstone stays


def test_a_client_syncing_through_both_processes_gets_every_change_once(two_servers):
    """Writers on both processes send, edit, react and delete in three rooms while a
    reader follows with GET /api/sync, alternating processes: every change arrives
    once, in rev order per room, and the reader ends with the server's state."""
    first, second = two_servers
    owner, reader = _session(first, "olga"), _session(second, "rita")
    rooms = [
        owner.post(f"{first}/api/rooms", json={"name": f"s{i}"}, timeout=10).json()["id"]
        for i in range(3)
    ]
    for room in rooms:
        assert reader.post(f"{second}/api/rooms/{room}/join", timeout=10).ok
    cursor = reader.get(f"{first}/api/sync", timeout=10).json()["cursor"]

    def write(worker: int) -> None:
        http = _session((first, second)[worker], f"writer{worker}")
        for room in rooms:
            assert http.post(f"{second}/api/rooms/{room}/join", timeout=10).ok
        for i in range(30):
            base, room = (first, second)[(worker + i) % 2], rooms[i % 3]
            body = {"roomId": room, "content": f"{worker}-{i}"}
            message = http.post(f"{base}/api/messages", json=body, timeout=30).json()["id"]
            if i % 3 == 1:
                patch = {"content": f"{worker}-{i} edited"}
                assert http.patch(f"{base}/api/messages/{message}", json=patch, timeout=30).ok
            if i % 5 == 2:
                assert http.delete(f"{base}/api/messages/{message}", timeout=30).ok

    seen: dict = {}  # (room, rev) -> change
    state: dict = {}  # message id -> message, as the reader applies changes

    def follow(turn: int) -> bool:
        nonlocal cursor
        base = (first, second)[turn % 2]
        page = reader.get(f"{base}/api/sync", params={"since": cursor, "limit": 50}, timeout=30)
        body = page.json()
        for change in body["changes"]:
            key = (change["roomId"], change["rev"])
            assert key not in seen, key  # exactly once
            seen[key] = change
            if "message" in change["data"]:
                state[change["data"]["message"]["id"]] = change["data"]["message"]
        cursor = body["cursor"]
        return body["hasMore"]

    with ThreadPoolExecutor(2) as pool:
        writers = [pool.submit(write, w) for w in range(2)]
        turn = 0
        while not all(w.done() for w in writers) and turn < 2000:
            follow(turn)
            turn += 1
        for w in writers:
            w.result()
    while follow(turn) and turn < 3000:  # the rest, after the writers stopped
        turn += 1
    follow(turn + 1)
    for room in rooms:
        revs = [rev for (r, rev) in seen if r == room]
        assert revs == sorted(revs)  # in rev order per room, as received
        history = owner.get(f"{first}/api/messages/{room}", params={"limit": 100}, timeout=10)
        for message in history.json()["messages"]:
            shown = state[message["id"]]
            assert (shown["content"], shown.get("deleted")) == (
                message["content"],
                message.get("deleted"),
            )
    assert len(state) == 60


def test_a_kick_on_one_process_hides_the_room_from_search_on_the_other(live, live_settings):
    """Each process keeps a searcher's rooms in memory; a kick anywhere drops them on
    every process (Redis), so the other one stops showing the room's messages."""
    with server(live_settings) as (second, _):
        alice, bob = _session(live, "alice"), _session(live, "bob")
        bob_id = bob.get(f"{live}/api/users/me", timeout=10).json()["id"]
        room = alice.post(f"{live}/api/rooms", json={"name": "kitchen"}, timeout=10).json()["id"]
        assert bob.post(f"{live}/api/rooms/{room}/join", timeout=10).status_code == 200
        body = {"roomId": room, "content": "the swordfish is ready"}
        assert alice.post(f"{live}/api/messages", json=body, timeout=10).status_code == 201

        def found() -> int:
            query = {"q": "swordfish"}
            response = bob.get(f"{second}/api/search/messages", params=query, timeout=10)
            return len(response.json()["messages"])

        assert found() == 1  # the second process keeps bob's rooms from here
        kicked = alice.delete(f"{live}/api/rooms/{room}/members/{bob_id}", timeout=10)
        assert kicked.status_code == 200
        deadline = time.monotonic() + 1
        while found() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert found() == 0
