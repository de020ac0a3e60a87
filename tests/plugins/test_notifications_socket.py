"""Notifications are pushed live to the notified user's own channel, and nobody else's."""


def test_notification_event_reaches_only_its_user(people):
    alice, bob, carol = people("alice", "bob", "carol")
    room = alice.create_room()
    for person in (bob, carol):
        person.ok("post", f"/api/rooms/{room}/join")
    bob_sock, carol_sock = bob.socket(), carol.socket()
    message = alice.socket().call("send_message", {"roomId": room, "content": "@bob look"})
    note = bob_sock.wait_for("notification")
    assert note["type"] == "mention" and note["messageId"] == message["message"]["id"]
    assert note == bob.ok("get", "/api/notifications")["notifications"][0]
    assert carol_sock.quiet("notification") == []
