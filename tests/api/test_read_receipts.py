"""Read receipts from the read pointers: GET /api/rooms/:roomId/reads, `read_updated`
(at most one a second per reader and room), the privacy setting, and `mark_read` over
the socket with the same answers as REST."""

import time

import pytest

from tests.conftest import assert_error, snapshot

UNKNOWN = "0123456789abcdef01234567"


def _room_with_messages(alice, *members, count: int = 3, **settings):
    room = alice.create_room("receipts", **settings)["id"]
    for member in members:
        if settings.get("isPrivate"):
            alice.ok("post", f"/api/rooms/{room}/members", json={"userId": member.id})
        else:
            member.ok("post", f"/api/rooms/{room}/join")
    return room, [alice.send(room, f"m{i}")["id"] for i in range(count)]


def test_reads_show_how_far_each_member_read(alice, bob, make_user):
    carol = make_user("carol")
    room, (m0, _m1, m2) = _room_with_messages(alice, bob, carol)
    assert bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": m0})["unreadCount"] == 2
    carol.ok("post", f"/api/rooms/{room}/read", json={"messageId": m2})
    bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": m0})  # again: no change
    reads = alice.ok("get", f"/api/rooms/{room}/reads")["reads"]
    assert [(r["userId"], r["lastReadSeq"], r["lastReadMessageId"]) for r in reads] == [
        (carol.id, 3, m2),
        (bob.id, 1, m0),
    ]
    assert all(r["at"].endswith("Z") for r in reads)


def test_a_pointer_never_moves_back(alice, bob):
    room, (m0, _m1, m2) = _room_with_messages(alice, bob)
    bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": m2})
    assert bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": m0})["unreadCount"] == 0
    (read,) = alice.ok("get", f"/api/rooms/{room}/reads")["reads"]
    assert read["lastReadMessageId"] == m2


def test_members_who_turn_receipts_off_are_left_out(alice, bob):
    room, (m0, *_) = _room_with_messages(alice, bob)
    bob.ok("patch", "/api/users/me", json={"settings": {"readReceipts": False}})
    bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": m0})
    assert alice.ok("get", f"/api/rooms/{room}/reads")["reads"] == []
    assert [r["userId"] for r in bob.ok("get", f"/api/rooms/{room}/reads")["reads"]] == [bob.id]


def test_reads_of_a_hidden_room_are_404(alice, bob, make_user):
    stranger = make_user("stranger")
    room, (m0, *_) = _room_with_messages(alice, bob, isPrivate=True)
    assert_error(stranger.call("get", f"/api/rooms/{room}/reads"), 404, "not_found")
    read = stranger.call("post", f"/api/rooms/{room}/read", json={"messageId": m0})
    assert_error(read, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"messageId": "nope"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"messageId": UNKNOWN}, 404, "not_found"),
        ("other room", 404, "not_found"),
    ],
)
def test_bad_marks_change_nothing(alice, bob, db, body, status, code):
    room, _ = _room_with_messages(alice, bob)
    if body == "other room":
        other = alice.create_room("other")["id"]
        body = {"messageId": alice.send(other, "elsewhere")["id"]}
    before = snapshot(db, "read_states")
    assert_error(bob.call("post", f"/api/rooms/{room}/read", json=body), status, code)
    assert snapshot(db, "read_states") == before


def test_read_updated_is_coalesced_to_one_a_second(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    messages = [
        alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": str(i)})["id"]
        for i in range(5)
    ]
    watcher, reader = alice.socket(), bob.socket()
    started = time.monotonic()
    for message in messages:  # five marks within a few milliseconds
        ack = reader.call("mark_read", {"roomId": room, "messageId": message})
        assert ack["ok"]
    assert ack["unreadCount"] == 0
    first = watcher.wait_for("read_updated")
    assert first["userId"] == bob.id and first["lastReadMessageId"] == messages[0]
    last = watcher.wait_for("read_updated", lambda r: r["lastReadMessageId"] == messages[-1])
    assert last["lastReadSeq"] == 5 and time.monotonic() - started >= 0.9
    assert len(watcher.quiet("read_updated", 1.2)) == 2  # the three between were folded


def test_no_read_updated_for_private_readers_and_socket_parity(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    first = alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "a"})["id"]
    second = alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "b"})["id"]
    bob.ok("patch", "/api/users/me", json={"settings": {"readReceipts": False}})
    watcher, reader = alice.socket(), bob.socket()
    over_socket = reader.call("mark_read", {"roomId": room, "messageId": first})
    over_rest = bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": second})
    assert over_socket == {"ok": True, "unreadCount": 1} and over_rest == {"unreadCount": 0}
    assert watcher.quiet("read_updated", 1.2) == []
    bad = reader.call("mark_read", {"roomId": room, "messageId": "nope"})
    assert bad["error"]["code"] == "validation_error"
    unknown = reader.call("mark_read", {"roomId": room, "messageId": UNKNOWN})
    assert unknown["error"]["code"] == "not_found"
