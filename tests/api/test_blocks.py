"""Blocks over REST: direct rooms closed to the blocked user, mentions that do not name
the blocker, the list, and bad input (typing and presence: tests/sockets/test_blocks.py)."""

from tests.conftest import assert_error, eventually, plugin_enabled, snapshot

UNKNOWN = "0123456789abcdef01234567"


def test_a_blocked_user_cannot_open_or_write_to_a_direct_room(alice, bob):
    dm = bob.ok("post", "/api/rooms/direct", 200, json={"userId": alice.id})["id"]
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)  # idempotent
    response = bob.call("post", "/api/messages", json={"roomId": dm, "content": "hey"})
    assert_error(response, 403, "forbidden")
    assert_error(bob.call("post", "/api/rooms/direct", json={"userId": alice.id}), 403, "forbidden")
    alice.send(dm, "the blocker may still write")  # (it is their choice)
    assert [u["id"] for u in alice.ok("get", "/api/users/me/blocks")["users"]] == [bob.id]
    alice.ok("delete", f"/api/users/me/blocks/{bob.id}", 204)
    bob.send(dm, "thanks")
    assert alice.ok("get", "/api/users/me/blocks")["users"] == []


def test_mentions_from_a_blocked_user_do_not_reach_the_blocker(alice, bob, make_user):
    carol = make_user("carol")
    room = alice.create_room("open")["id"]
    for person in (bob, carol):
        person.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    message = bob.send(room, "@alice @carol look")
    assert message["mentions"] == [carol.id]
    if plugin_enabled("notifications"):  # made in the background: carol's, then alice's

        def notes(caller) -> list:
            return caller.ok("get", "/api/notifications")["notifications"]

        assert len(eventually(lambda: notes(carol))) == 1
        assert notes(alice) == []


def test_bad_blocks(alice, db):
    before = snapshot(db, "users")
    assert_error(alice.call("put", f"/api/users/me/blocks/{alice.id}"), 422, "validation_error")
    assert_error(alice.call("put", f"/api/users/me/blocks/{UNKNOWN}"), 404, "not_found")
    assert_error(alice.call("put", "/api/users/me/blocks/nope"), 404, "not_found")
    assert snapshot(db, "users") == before
