"""Authorization matrix: every endpoint against another user's private room and message."""

import pytest

from tests.conftest import assert_error, snapshot


def _snapshot(db) -> dict:
    return snapshot(db, "rooms", "messages", "read_states")


@pytest.fixture
def world(alice, bob):
    """alice and bob each own a private room with one message in it."""
    room_a = alice.create_room("alice-private", isPrivate=True)["id"]
    room_b = bob.create_room("bob-private", isPrivate=True)["id"]
    return {
        "alice": alice,
        "bob": bob,
        "room_a": room_a,
        "room_b": room_b,
        "msg_a": alice.send(room_a, "a")["id"],
        "msg_b": bob.send(room_b, "b")["id"],
    }


def _matrix(w) -> list[tuple[str, str, dict | None]]:
    """(method, path, json) for every operation aimed at bob's room, message and id."""
    room, msg, alice, bob = w["room_b"], w["msg_b"], w["alice"].id, w["bob"].id
    base = f"/api/rooms/{room}"
    return [
        ("get", base, None),
        ("put", base, {"name": "mine now"}),
        ("post", f"{base}/join", None),
        ("post", f"{base}/leave", None),
        ("post", f"{base}/members", {"userId": alice}),
        ("delete", f"{base}/members/{bob}", None),
        ("post", f"{base}/bans", {"userId": bob}),
        ("delete", f"{base}/bans/{alice}", None),
        ("put", f"{base}/admins/{alice}", None),
        ("delete", f"{base}/admins/{bob}", None),
        ("put", f"{base}/owners/{alice}", None),
        ("delete", f"{base}/owners/{bob}", None),
        ("post", f"{base}/read", {"messageId": msg}),
        ("get", f"/api/messages/{room}", None),
        ("post", "/api/messages", {"roomId": room, "content": "intrusion"}),
        ("post", "/api/messages", {"roomId": room, "content": "x", "clientId": "c"}),
        ("patch", f"/api/messages/{msg}", {"content": "defaced"}),
        ("delete", f"/api/messages/{msg}", None),
    ]


def test_every_operation_on_another_users_private_room_is_404(world, db):
    alice = world["alice"]
    before = _snapshot(db)
    for method, path, body in _matrix(world):
        response = alice.call(method, path, **({"json": body} if body else {}))
        error = assert_error(response, 404, "not_found")
        assert "bob" not in str(error), (method, path, error)
    assert _snapshot(db) == before
    listed = [r["id"] for r in alice.ok("get", "/api/rooms")["rooms"]]
    assert listed == [world["room_a"]]


def test_other_rooms_ids_do_not_work_inside_my_room(world):
    alice, room_a, msg_b = world["alice"], world["room_a"], world["msg_b"]
    read = alice.call("post", f"/api/rooms/{room_a}/read", json={"messageId": msg_b})
    assert_error(read, 404, "not_found")
    history = alice.call("get", f"/api/messages/{room_a}", query_string={"before": msg_b})
    assert_error(history, 422, "validation_error")


def test_nonexistent_ids_answer_like_hidden_ones(world):
    alice = world["alice"]
    ghost = "0123456789abcdef01234567"
    for path in (f"/api/rooms/{ghost}", f"/api/messages/{ghost}", "/api/rooms/not-an-id"):
        assert_error(alice.call("get", path), 404, "not_found")
    assert_error(alice.call("delete", f"/api/messages/{ghost}"), 404, "not_found")
    assert_error(alice.call("patch", "/api/messages/zzz", json={"content": "x"}), 404, "not_found")


def test_visible_public_room_refuses_non_members_with_403(alice, bob, db):
    room = alice.create_room("public")["id"]
    message = alice.send(room, "hello")["id"]
    before = _snapshot(db)
    assert bob.ok("get", f"/api/rooms/{room}")["id"] == room
    attempts = [
        ("get", f"/api/messages/{room}", None),
        ("post", "/api/messages", {"roomId": room, "content": "x"}),
        ("post", f"/api/rooms/{room}/read", {"messageId": message}),
        ("patch", f"/api/messages/{message}", {"content": "x"}),
        ("delete", f"/api/messages/{message}", None),
        ("put", f"/api/rooms/{room}", {"name": "x"}),
        ("post", f"/api/rooms/{room}/leave", None),
        ("post", f"/api/rooms/{room}/members", {"userId": bob.id}),
    ]
    for method, path, body in attempts:
        response = bob.call(method, path, **({"json": body} if body else {}))
        assert_error(response, 403, "forbidden")
    assert _snapshot(db) == before


def test_members_cannot_touch_each_others_messages(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    message = alice.send(room, "alice's")["id"]
    assert_error(
        bob.call("patch", f"/api/messages/{message}", json={"content": "x"}), 403, "forbidden"
    )
    assert_error(bob.call("delete", f"/api/messages/{message}"), 403, "forbidden")


def test_removed_members_lose_access(alice, bob):
    room = alice.create_room("secret", isPrivate=True)["id"]
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    message = bob.send(room, "I was here")["id"]
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")
    assert_error(bob.call("get", f"/api/messages/{room}"), 404, "not_found")
    assert_error(
        bob.call("patch", f"/api/messages/{message}", json={"content": "x"}), 404, "not_found"
    )
    assert_error(
        bob.call("post", "/api/messages", json={"roomId": room, "content": "x"}), 404, "not_found"
    )


def test_authentication_comes_before_body_validation(client):
    for method, path in (
        ("post", "/api/rooms"),
        ("post", "/api/messages"),
        ("patch", "/api/messages/0123456789abcdef01234567"),
    ):
        response = getattr(client, method)(path, json={"junk": {"$ne": 1}})
        assert_error(response, 401, "unauthorized")
