"""Socket limits (RELIABILITY rows 8, 11): a shared token bucket, abuse cut-off, caps."""

import threading
import time

import pytest
import socketio

from tests.processes import server
from tests.sockets.client import ChatSocket

LIMITS = {"SOCKET_SEND_RATE": 10, "SOCKET_SEND_BURST": 20, "SOCKET_MAX_PER_USER": 3}


@pytest.fixture
def limited_pair(app, live_settings):
    settings = {**live_settings, **LIMITS, "SOCKET_ABUSE_LIMIT": 100000}
    with server(settings) as (a, _), server(settings) as (b, _):
        yield a, b


@pytest.mark.serial  # a count over time, against the client's clock: alone on the cores
def test_send_flood_over_two_processes_obeys_one_shared_bucket(limited_pair, people):
    """Row 11: accepted = burst + rate x elapsed (+-2); the rest get rate_limited."""
    a, b = limited_pair
    alice = people("alice", base=a)
    room = alice.create_room()
    sockets = [alice.socket(base=a), alice.socket(base=b)]
    acks: list[dict] = []
    lock = threading.Lock()

    def flood(sock, count):
        for i in range(count):
            ack = sock.call("send_message", {"roomId": room, "content": f"flood {i}"})
            with lock:
                acks.append(ack)
            time.sleep(0.005)  # about 200 sends/s from the two sockets together

    started = time.monotonic()
    threads = [threading.Thread(target=flood, args=(s, 150)) for s in sockets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    accepted = [a for a in acks if a["ok"]]
    refused = [a for a in acks if not a["ok"]]
    expected = LIMITS["SOCKET_SEND_BURST"] + LIMITS["SOCKET_SEND_RATE"] * elapsed
    print(f"\nrow 11: accepted {len(accepted)}, expected {expected:.1f} over {elapsed:.2f} s")
    assert abs(len(accepted) - expected) <= 2, (len(accepted), expected, elapsed)
    assert refused and all(r["error"]["code"] == "rate_limited" for r in refused)
    assert all(r["error"]["retryAfter"] >= 1 for r in refused)
    stored = alice.ok("get", f"/api/messages/{room}", params={"limit": 100})["messages"]
    assert len(stored) == min(100, len(accepted))


def test_sustained_abuse_disconnects(app, live_settings, people):
    # one token a second: a loaded machine's slow round trips refill no budget between
    # the sends (at 10/s a send every 100 ms was always accepted, and never cut off)
    limits = {"SOCKET_SEND_RATE": 1, "SOCKET_SEND_BURST": 2, "SOCKET_ABUSE_LIMIT": 5}
    with server({**live_settings, **LIMITS, **limits}) as (base, _):
        alice = people("alice", base=base)
        room = alice.create_room()
        sock = alice.socket(base=base)
        for i in range(20):
            if not sock.connected:
                break
            try:
                sock.call("send_message", {"roomId": room, "content": str(i)}, timeout=2)
            except socketio.exceptions.TimeoutError:
                break
        assert sock.wait_disconnected(3)


def test_per_user_connection_cap_refuses_quickly(app, live_settings, people):
    with server({**live_settings, **LIMITS}) as (base, _):
        alice = people("alice", base=base)
        for _ in range(LIMITS["SOCKET_MAX_PER_USER"]):
            alice.socket(base=base)
        extra = ChatSocket(base, alice.token)
        started = time.monotonic()
        with pytest.raises(socketio.exceptions.ConnectionError):
            extra.connect()
        assert time.monotonic() - started < 2
        assert extra.connect_errors == [{"message": "too_many_connections"}]
        bob = people("bob", base=base)
        assert bob.socket(base=base).connected  # other users are unaffected


def test_process_connection_cap_refuses_quickly(app, live_settings, people):
    """Row 8: past the configured cap, connections are refused at once, not hung."""
    with server({**live_settings, "SOCKET_MAX_CONNECTIONS": 3}) as (base, _):
        users = people("ann", "ben", "cid", "dan", base=base)
        for person in users[:3]:
            person.socket(base=base)
        extra = ChatSocket(base, users[3].token)
        started = time.monotonic()
        with pytest.raises(socketio.exceptions.ConnectionError):
            extra.connect()
        assert time.monotonic() - started < 2
        assert extra.connect_errors == [{"message": "server_busy"}]
