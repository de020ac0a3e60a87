"""Row 24: 20 concurrent logins (argon2id, off the event loop) keep sockets responsive."""

import statistics
import threading
import time

import pytest
import requests

from tests.conftest import PASSWORD


@pytest.mark.serial  # a latency bound: measured without other tests sharing the cores
def test_concurrent_logins_do_not_stall_sockets(people, live):
    alice = people("alice")
    room = alice.create_room()
    sock = alice.socket()
    stop = threading.Event()

    def login():
        body = {"username": "alice", "password": PASSWORD}
        requests.post(f"{live}/api/auth/login", json=body, timeout=30)

    threads = [threading.Thread(target=login) for _ in range(20)]
    rtts = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        started = time.perf_counter()
        assert sock.call("typing_stop", {"roomId": room})["ok"] in (True, False)
        rtts.append(time.perf_counter() - started)
    stop.set()
    for t in threads:
        t.join()
    rtts.sort()
    p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
    print(f"\nrow 24: socket RTT p99 {p99 * 1000:.0f} ms over {len(rtts)} calls")
    assert len(rtts) >= 5, "the logins finished before any measurement"
    assert p99 < 0.25, (
        f"socket RTT p99 {p99 * 1000:.0f} ms (median {statistics.median(rtts) * 1000:.0f} ms)"
    )
