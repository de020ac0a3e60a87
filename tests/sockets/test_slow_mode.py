"""Slow mode over sockets, counted for all processes (the shared Redis buckets)."""

import pytest

from tests.processes import server


@pytest.fixture
def pair(app, live_settings):
    with server(live_settings) as (a, _), server(live_settings) as (b, _):
        yield a, b


def test_slow_mode_holds_across_processes(pair, people):
    a, b = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"slowModeSeconds": 60}})
    here, there = bob.socket(base=a), bob.socket(base=b)
    assert here.call("send_message", {"roomId": room, "content": "one"})["ok"]
    refused = there.call("send_message", {"roomId": room, "content": "two"})
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["retryAfter"] >= 58
    admin = alice.socket(base=b)
    assert all(admin.call("send_message", {"roomId": room, "content": "x"})["ok"] for _ in range(3))
