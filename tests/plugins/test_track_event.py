"""Every state change publishes an event that plugins' `track_event` sees."""

import time

from chat import hookimpl


def test_every_state_change_reaches_track_event(app, make_user):
    seen: list[tuple] = []
    apps: set = set()

    class Recorder:
        @hookimpl
        def track_event(self, app, event):  # every hook may take the app
            apps.add(app)
            seen.append((type(event).__name__, getattr(event, "user_id", "")))

    plugins = app.extensions["plugins"]
    plugins.register(Recorder(), name="recorder")
    try:
        alice, bob = make_user("alice"), make_user("bob")
        room = alice.create_room("events")["id"]
        bob.ok("post", f"/api/rooms/{room}/join")
        alice.ok("put", f"/api/rooms/{room}/admins/{bob.id}")
        alice.ok("put", f"/api/rooms/{room}/admins/{bob.id}")  # already: nothing changes
        alice.ok("delete", f"/api/rooms/{room}/admins/{bob.id}")
        alice.ok("put", f"/api/rooms/{room}", json={"description": "about events"})
        message = alice.send(room, "hi")
        alice.ok("post", f"/api/rooms/{room}/read", json={"messageId": message["id"]})
        alice.ok("post", f"/api/rooms/{room}/bans", json={"userId": bob.id})
        alice.ok("delete", f"/api/rooms/{room}/bans/{bob.id}")
        alice.ok("delete", f"/api/rooms/{room}/bans/{bob.id}")  # not banned: nothing
        alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})
        alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})  # the same room
        alice.ok("post", "/api/auth/logout", 204)
        expected = [
            ("UserRegistered", alice.id),
            ("UserRegistered", bob.id),
            ("RoomCreated", alice.id),
            ("MemberJoined", bob.id),
            ("RoleChanged", bob.id),
            ("RoleChanged", bob.id),
            ("RoomUpdated", ""),
            ("MessageCreated", ""),
            ("ReadMarked", alice.id),
            ("ReadUpdated", alice.id),  # the receipt others see
            ("MemberLeft", bob.id),
            ("MemberUnbanned", bob.id),
            ("RoomCreated", alice.id),
            ("SessionRevoked", alice.id),
        ]
        deadline = time.monotonic() + 10  # track_event runs in the background
        while sorted(seen) != sorted(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        plugins.unregister(name="recorder")
    assert sorted(seen) == sorted(expected)
    assert apps == {app}
