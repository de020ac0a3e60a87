"""Pins (PUT / DELETE /api/messages/:id/pin, GET /api/rooms/:id/pins) and edit history
(GET /api/messages/:id/history), with their permissions."""

import pytest

from tests.conftest import assert_error, snapshot

UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("pins")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_admins_pin_and_unpin(alice, bob, room):
    first, second = bob.send(room, "first")["id"], bob.send(room, "second")["id"]
    pinned = alice.ok("put", f"/api/messages/{first}/pin")
    assert pinned["pinned"]["by"] == alice.id and pinned["pinned"]["at"].endswith("Z")
    alice.ok("put", f"/api/messages/{second}/pin")
    again = alice.ok("put", f"/api/messages/{second}/pin")  # idempotent
    listed = bob.ok("get", f"/api/rooms/{room}/pins")["messages"]
    assert [m["id"] for m in listed] == [second, first]  # the newest pin first
    assert again["pinned"] == listed[0]["pinned"]
    unpinned = alice.ok("delete", f"/api/messages/{first}/pin")
    assert "pinned" not in unpinned
    assert [m["id"] for m in bob.ok("get", f"/api/rooms/{room}/pins")["messages"]] == [second]


def test_members_pin_only_when_the_room_allows(alice, bob, room):
    message = alice.send(room, "pin me")["id"]
    assert_error(bob.call("put", f"/api/messages/{message}/pin"), 403, "forbidden")
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"membersCanPin": True}})
    assert bob.ok("put", f"/api/messages/{message}/pin")["pinned"]["by"] == bob.id


def test_pins_in_rooms_you_cannot_read(alice, bob, make_user, room):
    stranger = make_user("stranger")
    message = alice.send(room, "members only")["id"]
    assert_error(stranger.call("put", f"/api/messages/{message}/pin"), 403, "forbidden")
    bob.ok("post", f"/api/rooms/{room}/leave", 204)
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"membersCanPin": True}})
    assert_error(bob.call("put", f"/api/messages/{message}/pin"), 403, "forbidden")
    hidden = alice.create_room("secret", isPrivate=True)["id"]
    secret = alice.send(hidden, "secret")["id"]
    assert_error(stranger.call("put", f"/api/messages/{secret}/pin"), 404, "not_found")
    assert_error(stranger.call("get", f"/api/rooms/{hidden}/pins"), 404, "not_found")


def test_deleted_messages_are_not_pinned_and_lose_their_pin(alice, room, db):
    message = alice.send(room, "soon gone")["id"]
    alice.ok("put", f"/api/messages/{message}/pin")
    alice.ok("delete", f"/api/messages/{message}", 204)
    assert alice.ok("get", f"/api/rooms/{room}/pins")["messages"] == []
    before = snapshot(db, "messages")
    assert_error(alice.call("put", f"/api/messages/{message}/pin"), 409, "conflict")
    assert snapshot(db, "messages") == before


@pytest.mark.parametrize("target", [UNKNOWN, "not-an-id"])
def test_pinning_unknown_messages(alice, target):
    assert_error(alice.call("put", f"/api/messages/{target}/pin"), 404, "not_found")


def test_edit_history_keeps_every_version(alice, bob, room):
    message = alice.send(room, "v1")
    alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "v2"})
    alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "v3"})
    versions = bob.ok("get", f"/api/messages/{message['id']}/history")["versions"]
    assert [v["content"] for v in versions] == ["v1", "v2", "v3"]
    assert versions[0]["editedAt"] == message["timestamp"]
    assert versions[0]["editedAt"] <= versions[1]["editedAt"] <= versions[2]["editedAt"]


def test_history_is_for_readers_of_the_room_and_dies_with_the_message(alice, make_user):
    stranger = make_user("stranger")
    hidden = alice.create_room("secret", isPrivate=True)["id"]
    message = alice.send(hidden, "first draft")["id"]
    alice.ok("patch", f"/api/messages/{message}", json={"content": "final"})
    assert_error(stranger.call("get", f"/api/messages/{message}/history"), 404, "not_found")
    alice.ok("delete", f"/api/messages/{message}", 204)
    assert alice.ok("get", f"/api/messages/{message}/history") == {"versions": []}


def test_pins_arrive_through_sync(alice, bob, room):
    message = alice.send(room, "pinned soon")["id"]
    cursor = bob.ok("get", "/api/sync")["cursor"]
    alice.ok("put", f"/api/messages/{message}/pin")
    changes = bob.ok("get", "/api/sync", query_string={"since": cursor})["changes"]
    assert [(c["type"], c["data"]["message"]["pinned"]["by"]) for c in changes] == [
        ("message_pinned", alice.id)
    ]
