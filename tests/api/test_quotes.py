"""Quotes: `quotedMessageId` on a send (REST and socket) shows the quoted message as it
is now (`quoted: {id, sender, content, deleted}`); quotes across rooms, of unknown or
deleted messages are refused and store nothing."""

import pytest

from tests.conftest import assert_error, snapshot

UNKNOWN = "0123456789abcdef01234567"


def test_a_quote_shows_the_quoted_message_as_it_is_now(alice, bob):
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    original = bob.send(room, "x" * 250)
    reply = alice.send(room, "I agree", quotedMessageId=original["id"])
    assert reply["quoted"] == {
        "id": original["id"],
        "sender": {"id": bob.id, "username": "bob"},
        "content": "x" * 200,
        "deleted": False,
    }
    bob.ok("patch", f"/api/messages/{original['id']}", json={"content": "changed my mind"})
    (shown,) = [m for m in alice.history(room)["messages"] if m["id"] == reply["id"]]
    assert shown["quoted"]["content"] == "changed my mind"
    bob.ok("delete", f"/api/messages/{original['id']}", 204)
    (shown,) = [m for m in alice.history(room)["messages"] if m["id"] == reply["id"]]
    assert shown["quoted"] == {"id": original["id"], "sender": None, "content": "", "deleted": True}


@pytest.mark.parametrize("case", ["other room", "unknown", "deleted", "malformed"])
def test_bad_quotes_store_nothing(alice, db, case):
    room = alice.create_room()["id"]
    other = alice.create_room("other")["id"]
    quoted = {
        "other room": lambda: alice.send(other, "elsewhere")["id"],
        "unknown": lambda: UNKNOWN,
        "deleted": lambda: _deleted(alice, room),
        "malformed": lambda: "nope",
    }[case]()
    before = snapshot(db, "messages")
    body = {"roomId": room, "content": "quoting", "quotedMessageId": quoted}
    error = assert_error(alice.call("post", "/api/messages", json=body), 422, "validation_error")
    assert "quotedMessageId" in error["fields"]
    assert snapshot(db, "messages") == before


def _deleted(alice, room: str) -> str:
    message = alice.send(room, "gone")["id"]
    alice.ok("delete", f"/api/messages/{message}", 204)
    return message


def test_quotes_over_the_socket(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    first = bob.ok("post", "/api/messages", 201, json={"roomId": room, "content": "hello"})
    sock, watcher = alice.socket(), bob.socket()
    ack = sock.call(
        "send_message", {"roomId": room, "content": "hi", "quotedMessageId": first["id"]}
    )
    assert ack["message"]["quoted"]["content"] == "hello"
    received = watcher.wait_for("message_received")["message"]
    assert received["quoted"] == ack["message"]["quoted"]
    refused = sock.call(
        "send_message", {"roomId": room, "content": "x", "quotedMessageId": UNKNOWN}
    )
    assert refused["error"]["code"] == "validation_error"
