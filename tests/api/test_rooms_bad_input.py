"""Room and message endpoints refuse bad input with a 4xx envelope and change nothing."""

from tests.badinput import assert_refused, bad_bodies, send_raw_cases
from tests.conftest import snapshot


def _snapshot(db) -> dict:
    return snapshot(db, "rooms", "messages", "read_states", "users")


def _cases(alice, bob, room, message):
    return [
        ("post", "/api/rooms", {"name": "n", "description": "d"}, ["name"]),
        ("put", f"/api/rooms/{room}", {"name": "n", "description": "d"}, []),
        ("post", "/api/rooms/direct", {"userId": bob.id}, ["userId"]),
        ("post", f"/api/rooms/{room}/members", {"userId": bob.id}, ["userId"]),
        ("post", f"/api/rooms/{room}/bans", {"userId": bob.id}, ["userId"]),
        ("post", f"/api/rooms/{room}/read", {"messageId": message}, ["messageId"]),
        (
            "post",
            "/api/messages",
            {"roomId": room, "content": "c", "clientId": "k"},
            ["roomId", "content"],
        ),
        ("patch", f"/api/messages/{message}", {"content": "c"}, ["content"]),
    ]


def test_bad_bodies_everywhere(alice, bob, db):
    room = alice.create_room("general")["id"]
    message = alice.send(room, "hello")["id"]
    before = _snapshot(db)
    for method, path, valid, required in _cases(alice, bob, room, message):
        for label, body in bad_bodies(valid, required):
            assert_refused(alice.call(method, path, json=body), f"{method} {path} {label}")
        for label, response in send_raw_cases(alice.client, method, path, alice.headers, valid):
            assert_refused(response, f"{method} {path} {label}")
    assert _snapshot(db) == before


def test_server_owned_fields_cannot_be_assigned(alice, bob, db):
    room = alice.create_room("general")["id"]
    message = alice.send(room, "hello")["id"]
    before = _snapshot(db)
    forged = {
        "seq": 99,
        "sender": bob.id,
        "participants": [bob.id],
        "admins": [bob.id],
        "createdAt": "2020-01-01T00:00:00.000Z",
        "timestamp": "2020-01-01T00:00:00.000Z",
        "edited": True,
        "reactions": [],
        "type": "direct",
        "isAdmin": True,
    }
    for name, value in forged.items():
        attempts = [
            ("post", "/api/messages", {"roomId": room, "content": "x", name: value}),
            ("patch", f"/api/messages/{message}", {"content": "x", name: value}),
            ("post", "/api/rooms", {"name": "x", name: value}),
            ("put", f"/api/rooms/{room}", {"name": "x", name: value}),
            ("put", f"/api/rooms/{room}", {"settings": {name: value}}),
        ]
        for method, path, body in attempts:
            response = alice.call(method, path, json=body)
            assert response.status_code == 422, (method, path, name)
            assert name in response.get_json()["error"]["fields"] or "settings" in str(
                response.get_json()
            )
    assert _snapshot(db) == before


def test_settings_are_bounded(alice):
    for settings in ({"maxParticipants": 1}, {"maxParticipants": 10001}, {"isPrivate": "yes"}):
        response = alice.call("post", "/api/rooms", json={"name": "x", "settings": settings})
        assert_refused(response, str(settings))
    for name in ("", "   ", "x" * 101):
        assert_refused(alice.call("post", "/api/rooms", json={"name": name}), repr(name))


def test_query_parameters_refuse_operators_and_junk(alice):
    room = alice.create_room("general")["id"]
    for query in ("limit[$gt]=0", "before[$ne]=x", "cursor=%7B%22%24ne%22%3A1%7D", "limit=1e9"):
        assert_refused(alice.call("get", f"/api/messages/{room}?{query}"), query)
    assert_refused(alice.call("get", "/api/rooms?cursor=nope"), "cursor")
    assert_refused(alice.call("get", "/api/rooms?unknown=1"), "unknown query parameter")
