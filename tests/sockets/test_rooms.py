"""Room events over a real socket: join_room, leave_room, typing with expiry and limits."""

import time


def test_join_room_joins_and_subscribes(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    a, b = alice.socket(), bob.socket()
    ack = b.call("join_room", {"roomId": room, "userId": alice.id})
    assert ack["ok"] is True and ack["room"]["participants"] == [alice.id, bob.id]
    joined = a.wait_for("user_joined")
    assert joined == {"roomId": room, "userId": bob.id, "username": "bob", "online": True}
    a.call("send_message", {"roomId": room, "content": "hi bob"})
    assert b.wait_for("message_received")["message"]["content"] == "hi bob"
    # joining again is fine and announces nothing
    assert b.call("join_room", {"roomId": room})["ok"] is True
    assert len(a.quiet("user_joined")) == 1


def test_sockets_follow_their_person_into_rooms_made_elsewhere(people):
    """A room made over REST (another device): its maker's open sockets get its
    messages without a join_room; a direct room's: both people's."""
    alice, bob = people("alice", "bob")
    a, b = alice.socket(), bob.socket()
    room = alice.create_room("made elsewhere")
    bob.ok("post", f"/api/rooms/{room}/join")
    bob.ok("post", "/api/messages", 201, json={"roomId": room, "content": "made it"})
    assert a.wait_for("message_received")["message"]["content"] == "made it"
    direct = alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})["id"]
    alice.ok("post", "/api/messages", 201, json={"roomId": direct, "content": "psst"})
    assert b.wait_for("message_received", lambda e: e["message"]["roomId"] == direct)


def test_join_room_refusals(people):
    alice, bob = people("alice", "bob")
    private = alice.create_room("secret", isPrivate=True)
    sock = bob.socket()
    assert sock.call("join_room", {"roomId": private})["error"]["code"] == "not_found"
    assert sock.call("join_room", {"roomId": "x"})["error"]["code"] == "validation_error"
    assert sock.call("join_room", {})["error"]["fields"] == {
        "roomId": ["Missing data for required field."]
    }
    assert sock.call("join_room", None)["error"]["code"] == "validation_error"


def test_leave_room_stops_delivery_to_every_socket_of_the_user(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    a, b1, b2 = alice.socket(), bob.socket(), bob.socket()
    assert b1.call("leave_room", {"roomId": room}) == {"ok": True}
    assert a.wait_for("user_left") == {"roomId": room, "userId": bob.id}
    a.call("send_message", {"roomId": room, "content": "gone?"})
    assert b1.quiet("message_received") == [] and b2.events["message_received"] == []


def test_leave_room_refusals(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    assert alice.socket().call("leave_room", {"roomId": room})["error"]["code"] == "conflict"
    carol = people("carol")
    assert carol.socket().call("leave_room", {"roomId": room})["error"]["code"] == "forbidden"


def test_typing_reaches_others_and_stops(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    a, b = alice.socket(), bob.socket()
    assert b.call("typing_start", {"roomId": room}) == {"ok": True}
    expected = {"roomId": room, "userId": bob.id, "username": "bob", "isTyping": True}
    assert a.wait_for("typing_indicator") == expected
    b.call("typing_start", {"roomId": room})  # still typing: no second broadcast
    assert b.call("typing_stop", {"roomId": room}) == {"ok": True}
    assert a.wait_for("typing_indicator", lambda d: not d["isTyping"])["userId"] == bob.id
    assert len(a.events["typing_indicator"]) == 2
    assert b.events["typing_indicator"] == []  # never to the typist


def test_typing_expires_when_the_typist_goes_quiet(people, live_settings):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    a, b = alice.socket(), bob.socket()
    b.call("typing_start", {"roomId": room})
    started = time.monotonic()
    a.wait_for("typing_indicator", lambda d: not d["isTyping"], timeout=6)
    waited = time.monotonic() - started
    assert live_settings["TYPING_TIMEOUT"] - 0.5 <= waited <= live_settings["TYPING_TIMEOUT"] + 2


def test_typing_stops_when_the_typist_disconnects(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    a, b = alice.socket(), bob.socket()
    b.call("typing_start", {"roomId": room})
    a.wait_for("typing_indicator")
    b.close()
    assert a.wait_for("typing_indicator", lambda d: not d["isTyping"], timeout=1.5)


def test_typing_is_rate_limited_and_members_only(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    sock = alice.socket()
    acks = [sock.call("typing_start", {"roomId": room}) for _ in range(12)]
    limited = [a for a in acks if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert all(a["error"]["retryAfter"] >= 1 for a in limited)
    assert bob.socket().call("typing_start", {"roomId": room})["error"]["code"] == "forbidden"
