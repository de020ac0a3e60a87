"""Presence: reference-counted over sockets, announced to shared rooms, listed over REST."""


def _online(person, **query) -> list[str]:
    return [u["username"] for u in person.ok("get", "/api/users/online", params=query)["users"]]


def test_presence_is_counted_over_all_of_a_users_sockets(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    watcher = alice.socket()
    first = bob.socket()
    assert watcher.wait_for("presence", lambda d: d["userId"] == bob.id) == {
        "userId": bob.id,
        "online": True,
        "username": "bob",  # a client adds bob without asking who he is
    }
    second = bob.socket()
    first.close()
    about_bob = [p for p in watcher.quiet("presence") if p["userId"] == bob.id]
    assert len(about_bob) == 1  # still online through the second socket
    assert _online(alice) == ["alice", "bob"]
    second.close()
    assert watcher.wait_for("presence", lambda d: not d["online"] and d["userId"] == bob.id) == {
        "userId": bob.id,
        "online": False,
    }
    assert _online(alice) == ["alice"]


def test_presence_only_reaches_rooms_the_user_shares(people):
    alice, bob, carol = people("alice", "bob", "carol")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    outsider = carol.socket()
    watcher = alice.socket()
    bob.socket()
    watcher.wait_for("presence", lambda d: d["userId"] == bob.id)
    assert outsider.quiet("presence") == []
    assert _online(carol) == ["carol"]  # carol shares no room with them


def test_online_users_of_a_room(people):
    alice, bob, carol = people("alice", "bob", "carol")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    for person in (alice, bob, carol):
        person.socket()
    assert _online(alice, roomId=room) == ["alice", "bob"]
    assert carol.rest("get", "/api/users/online", params={"roomId": room}).status_code == 403
    response = alice.ok("get", "/api/users/online", params={"roomId": room})
    public = {"id", "username", "displayName", "avatarUrl", "status", "bot", "deactivated"}
    assert all(set(u) == public | {"createdAt", "online"} for u in response["users"])
