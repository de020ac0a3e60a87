"""Blocks on sockets, across two processes: the blocked user's typing and presence never
reach the blocker's sockets (on either process) and still reach everyone else."""

import pytest

from tests.processes import server


@pytest.fixture
def pair(app, live_settings):
    with server(live_settings) as (a, _), server(live_settings) as (b, _):
        yield a, b


def test_typing_and_presence_of_a_blocked_user_skip_the_blocker(pair, people):
    a, b = pair
    alice, bob, carol = people("alice", "bob", "carol", base=a)
    room = alice.create_room()
    for person in (bob, carol):
        person.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    blocker = [alice.socket(base=a), alice.socket(base=b)]
    witness = carol.socket(base=b)
    mallory = bob.socket(base=b)  # comes online: carol hears, alice does not
    assert witness.wait_for("presence", lambda d: d["userId"] == bob.id)
    assert mallory.call("typing_start", {"roomId": room})["ok"]
    assert witness.wait_for("typing_indicator", lambda d: d["userId"] == bob.id)
    assert mallory.call("send_message", {"roomId": room, "content": "@alice hi"})["ok"]
    assert witness.wait_for("message_received")
    for sock in blocker:
        assert sock.quiet("typing_indicator", 0.5) == []
        assert [p for p in sock.events["presence"] if p["userId"] == bob.id] == []
        assert sock.events["message_received"]  # messages in a shared room still arrive
    dm = bob.ok("post", "/api/rooms/direct", 200, json={"userId": carol.id})["id"]
    assert mallory.call("send_message", {"roomId": dm, "content": "fine"})["ok"]
    refused = bob.rest("post", "/api/rooms/direct", json={"userId": alice.id})
    assert refused.status_code == 403
