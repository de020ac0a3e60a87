"""Row 13 over the socket: every event against another user's private room and message."""

from chat.models import Message
from tests.conftest import plugin_enabled


def test_every_socket_event_against_a_hidden_room_is_not_found(people):
    alice, bob = people("alice", "bob")
    hidden = bob.create_room("bob-only", isPrivate=True)
    bob_sock = bob.socket()
    message = bob_sock.call("send_message", {"roomId": hidden, "content": "secret"})["message"]
    sock = alice.socket()
    attempts = [
        ("join_room", {"roomId": hidden}),
        ("leave_room", {"roomId": hidden}),
        ("send_message", {"roomId": hidden, "content": "let me in"}),
        ("typing_start", {"roomId": hidden}),
        ("sync", {"roomId": hidden}),
        ("edit_message", {"messageId": message["id"], "content": "defaced"}),
        ("delete_message", {"messageId": message["id"]}),
    ]
    if plugin_enabled("reactions"):
        attempts += [
            ("add_reaction", {"messageId": message["id"], "emoji": "👍"}),
            ("remove_reaction", {"messageId": message["id"], "emoji": "👍"}),
        ]
    for event, payload in attempts:
        ack = sock.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", (event, ack)
        assert "secret" not in str(ack)
    bob_sock.call("send_message", {"roomId": hidden, "content": "still secret"})
    assert sock.quiet("message_received") == []  # a non-member socket receives nothing
    assert sock.events["typing_indicator"] == [] and sock.events["reaction_updated"] == []
    stored = Message.objects.get(id=message["id"])
    assert stored.content == "secret" and not stored.deleted and not stored.data.get("reactions")
