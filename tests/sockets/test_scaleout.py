"""Two server processes over Redis: cross-process delivery, kicks, logouts, SIGKILL failover."""

import threading
import time

import pytest
import requests

from chat.models import Message
from tests.processes import server
from tests.sockets.client import ChatSocket


@pytest.fixture
def pair(app, live_settings):
    """Two gunicorn + gevent processes sharing MongoDB and the Redis message queue."""
    with server(live_settings) as (a, proc_a), server(live_settings) as (b, proc_b):
        yield (a, proc_a), (b, proc_b)


def test_messages_typing_and_presence_cross_processes(pair, people):
    (a, _), (b, _) = pair
    alice = people("alice", base=a)
    bob = people("bob", base=a)
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    on_a = alice.socket(base=a)
    on_b = bob.socket(base=b)
    assert on_a.wait_for("presence", lambda d: d["userId"] == bob.id)["online"] is True
    sent = on_a.call("send_message", {"roomId": room, "content": "from A"})["message"]
    assert on_b.wait_for("message_received")["message"] == sent
    reply = on_b.call("send_message", {"roomId": room, "content": "from B"})["message"]
    assert on_a.wait_for("message_received")["message"] == reply
    on_b.call("typing_start", {"roomId": room})
    assert on_a.wait_for("typing_indicator")["userId"] == bob.id
    online = alice.ok("get", "/api/users/online", params={"roomId": room})  # asked on A
    assert [u["username"] for u in online["users"]] == ["alice", "bob"]
    on_b.close()
    assert on_a.wait_for("presence", lambda d: d["userId"] == bob.id and not d["online"])


def test_kick_on_one_process_silences_a_socket_on_the_other(pair, people):
    (a, _), (b, _) = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room("secret", isPrivate=True)
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    sender, victim = alice.socket(base=a), bob.socket(base=b)
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")  # REST on A
    victim.wait_for("user_left", lambda d: d["userId"] == bob.id)
    for i in range(5):
        sender.call("send_message", {"roomId": room, "content": f"secret {i}"})
    assert victim.quiet("message_received", 1.0) == []
    assert victim.call("send_message", {"roomId": room, "content": "x"})["ok"] is False


def test_a_room_cached_on_one_process_follows_writes_on_the_other(pair, people):
    """B keeps the room in memory after bob's first send; a kick on A reaches it, and a
    join on A is never refused on B for a stale copy."""
    (a, _), (b, _) = pair
    alice, bob, carol = people("alice", "bob", "carol", base=a)
    room = alice.create_room("cached")
    bob.ok("post", f"/api/rooms/{room}/join")
    sender, victim = alice.socket(base=a), bob.socket(base=b)
    for i in range(3):  # B reads the room once and serves the next sends from memory
        assert victim.call("send_message", {"roomId": room, "content": f"bob {i}"})["ok"]
    carol.ok("post", f"/api/rooms/{room}/join")  # on A; carol sends on B at once
    newcomer = carol.socket(base=b)
    assert newcomer.call("send_message", {"roomId": room, "content": "hi"})["ok"]

    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")  # REST on A
    victim.wait_for("user_left", lambda d: d["userId"] == bob.id)
    refused = victim.call("send_message", {"roomId": room, "content": "after the kick"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert victim.call("typing_start", {"roomId": room})["ok"] is False
    sent = sender.call("send_message", {"roomId": room, "content": "still here"})
    history = [m["content"] for m in alice.ok("get", f"/api/messages/{room}")["messages"]]
    assert history == ["bob 0", "bob 1", "bob 2", "hi", "still here"]
    assert sent["message"]["seq"] == 5


def test_logout_on_one_process_closes_sockets_on_both(pair, people):
    (a, _), (b, _) = pair
    alice = people("alice", base=a)
    here, there = alice.socket(base=a), alice.socket(base=b)
    started = time.monotonic()
    alice.ok("post", "/api/auth/logout", 204)
    assert here.wait_disconnected(2) and there.wait_disconnected(2)
    assert time.monotonic() - started < 2


def test_sigkill_failover_loses_nothing(pair, people):
    """Clients on B reconnect to A after B is killed and `sync` back every message."""
    (a, _), (b, proc_b) = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    watcher = people("carol", base=a)
    watcher.ok("post", f"/api/rooms/{room}/join")
    watcher_sock = watcher.socket(base=a)
    sender = alice.socket(base=a)
    receiver = bob.socket(base=b)
    watcher_sock.wait_for("presence", lambda d: d["userId"] == bob.id and d["online"])
    acked: list[dict] = []

    def send_all():
        for i in range(100):
            ack = sender.call(
                "send_message", {"roomId": room, "content": f"m{i}", "clientId": f"c{i}"}
            )
            assert ack["ok"], ack
            acked.append(ack["message"])
            time.sleep(0.02)

    thread = threading.Thread(target=send_all)
    thread.start()
    while len(receiver.events["message_received"]) < 20:
        time.sleep(0.01)
    proc_b.kill()  # SIGKILL: no cleanup, no goodbye
    assert receiver.wait_disconnected(10)
    killed_at = time.monotonic()
    last_seen = receiver.events["message_received"][-1]["message"]["id"]
    survivor = ChatSocket(a, bob.token).connect()  # the client's failover to another process
    try:
        reconnect_seconds = time.monotonic() - killed_at
        thread.join(30)
        got, after = [], last_seen
        while True:
            ack = survivor.call("sync", {"roomId": room, "after": after})
            got += ack["messages"]
            if not ack["hasMore"]:
                break
            after = ack["messages"][-1]["id"]
        live_ids = [e["message"]["id"] for e in receiver.events["message_received"]]
        live_ids += [e["message"]["id"] for e in survivor.events["message_received"]]
        have = {*live_ids, *(m["id"] for m in got)}
        assert {m["id"] for m in acked} <= have, "an acked message was lost"
        assert len(acked) == 100 == Message.objects(room=room).count()
        print(f"\nrow 5: reconnected to the other process {reconnect_seconds:.2f} s after SIGKILL")
        assert reconnect_seconds < 10
        # bob stays online: the dead process's socket is reaped, the new one still counts
        time.sleep(5)
        online = alice.ok("get", "/api/users/online")["users"]
        assert [u["username"] for u in online] == ["alice", "bob", "carol"]
    finally:
        survivor.close()


def test_a_dead_process_is_reaped_from_presence(pair, people):
    (a, _), (b, proc_b) = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    watcher = alice.socket(base=a)
    bob.socket(base=b)
    watcher.wait_for("presence", lambda d: d["userId"] == bob.id and d["online"])
    proc_b.kill()
    offline = watcher.wait_for(
        "presence", lambda d: d["userId"] == bob.id and not d["online"], timeout=12
    )
    assert offline == {"userId": bob.id, "online": False}
    assert requests.get(f"{a}/readyz", timeout=5).status_code == 200
