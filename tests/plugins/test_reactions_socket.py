"""Reactions plugin over a real socket: add_reaction / remove_reaction and reaction_updated."""


def test_socket_reactions_broadcast_reaction_updated(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    a, b = alice.socket(), bob.socket()
    message = a.call("send_message", {"roomId": room, "content": "hi"})["message"]
    ack = b.call("add_reaction", {"messageId": message["id"], "emoji": "🎉"})
    assert ack["ok"] and ack["message"]["reactionCounts"] == {"🎉": 1}
    update = a.wait_for("reaction_updated")
    assert update["messageId"] == message["id"] and update["roomId"] == room
    assert [(r["user"], r["emoji"]) for r in update["reactions"]] == [(bob.id, "🎉")]
    gone = b.call("remove_reaction", {"messageId": message["id"], "emoji": "🎉"})
    assert gone["message"]["reactions"] == []
    assert a.wait_for("reaction_updated", lambda d: d["reactions"] == [])


def test_socket_reaction_refusals(people):
    alice, carol = people("alice", "carol")
    room = alice.create_room()
    message = alice.socket().call("send_message", {"roomId": room, "content": "hi"})["message"]
    sock = carol.socket()
    refused = sock.call("add_reaction", {"messageId": message["id"], "emoji": "🎉"})
    assert refused["error"]["code"] == "forbidden"
    bad = alice.socket().call("add_reaction", {"messageId": message["id"], "emoji": "nope"})
    assert bad["error"]["code"] == "validation_error"
