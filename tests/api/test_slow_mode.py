"""Slow mode: a room's `slowModeSeconds` lets members other than its admins send one
message per N seconds (REST and socket alike; shared by every process: tests/sockets)."""

import pytest

from tests.conftest import assert_error, snapshot


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("slow")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    shown = alice.ok("put", f"/api/rooms/{room}", json={"settings": {"slowModeSeconds": 30}})
    assert shown["settings"]["slowModeSeconds"] == 30
    return room


def test_members_wait_admins_do_not(alice, bob, room, db):
    bob.send(room, "first")
    before = snapshot(db, "messages")
    response = bob.call("post", "/api/messages", json={"roomId": room, "content": "second"})
    error = assert_error(response, 429, "rate_limited")
    assert 28 <= error["retryAfter"] <= 30 and response.headers["Retry-After"]
    assert snapshot(db, "messages") == before
    for text in ("admins", "are exempt"):
        alice.send(room, text)
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"slowModeSeconds": 0}})
    bob.send(room, "free again")


@pytest.mark.parametrize("value", [-1, 21601, "5", 1.5, None])
def test_bad_slow_mode_values(alice, room, db, value):
    before = snapshot(db, "rooms")
    body = {"settings": {"slowModeSeconds": value}}
    assert_error(alice.call("put", f"/api/rooms/{room}", json=body), 422, "validation_error")
    assert snapshot(db, "rooms") == before


def test_only_admins_turn_it_on(alice, bob, room):
    body = {"settings": {"slowModeSeconds": 5}}
    assert_error(bob.call("put", f"/api/rooms/{room}", json=body), 403, "forbidden")
