"""API tokens and bots on live sockets, on two servers started as shipped (RELIABILITY
row 37): a bot's token connects and sends, events outside its scopes are refused, a
token of some rooms hears only those, and a revoked token's sockets close on every
process within 2 s."""

import pytest
import socketio

from tests.processes import server
from tests.sockets.client import ChatSocket


def _text(event: dict) -> str:
    return event["message"]["content"]


@pytest.fixture
def pair(app, live_settings):
    with server(live_settings) as (a, _), server(live_settings) as (b, _):
        yield a, b


def test_a_bots_token_on_both_processes_until_revoked(pair, people):
    a, b = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room("ops")
    bob.ok("post", f"/api/rooms/{room}/join")
    made = alice.ok("post", "/api/bots", 201, json={"username": "deploy-bot"})
    bot_sockets = [ChatSocket(base, made["token"]).connect() for base in (a, b)]
    watcher = bob.socket(base=b)
    try:
        assert bot_sockets[0].call("join_room", {"roomId": room})["ok"]
        ack = bot_sockets[1].call("send_message", {"roomId": room, "content": "deployed v7"})
        assert ack["ok"] and ack["message"]["sender"]["bot"] is True
        heard = watcher.wait_for("message_received", lambda e: _text(e) == "deployed v7")
        assert heard["message"]["sender"] == {
            "id": made["user"]["id"],
            "username": "deploy-bot",
            "bot": True,
        }
        alice.ok("delete", f"/api/bots/{made['user']['id']}/tokens/{made['tokenId']}", 204)
        assert all(sock.wait_disconnected(2) for sock in bot_sockets)
        again = ChatSocket(a, made["token"])
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect()
        assert again.connect_errors and watcher.connected
    finally:
        for sock in bot_sockets:
            sock.close()


def test_scopes_and_rooms_on_sockets(pair, people):
    a, b = pair
    alice, bob = people("alice", "bob", base=a)
    kept, other = alice.create_room("kept"), alice.create_room("other")
    readonly = alice.ok("post", "/api/tokens", 201, json={"name": "r", "scopes": ["users:read"]})
    refused = ChatSocket(b, readonly["token"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()  # a socket delivers messages: it needs messages:read
    body = {"name": "kept", "scopes": ["messages:read"], "roomIds": [kept]}
    listener = ChatSocket(b, alice.ok("post", "/api/tokens", 201, json=body)["token"]).connect()
    try:
        ack = listener.call("send_message", {"roomId": kept, "content": "no"})
        assert ack["error"]["code"] == "insufficient_scope"
        alice.ok("post", "/api/messages", 201, json={"roomId": other, "content": "elsewhere"})
        alice.ok("post", "/api/messages", 201, json={"roomId": kept, "content": "here"})
        assert _text(listener.wait_for("message_received")) == "here"
        third = bob.create_room("third")
        alice.ok("post", f"/api/rooms/{third}/join")  # alice follows; her token does not
        bob.ok("post", "/api/messages", 201, json={"roomId": third, "content": "psst"})
        alice.ok("post", "/api/messages", 201, json={"roomId": kept, "content": "still here"})
        assert listener.wait_for("message_received", lambda e: _text(e) == "still here")
        heard = [_text(e) for e in listener.events["message_received"]]
        assert heard == ["here", "still here"]
    finally:
        listener.close()


def test_slash_commands_on_a_socket(live, people):
    alice, bob = people("alice", "bob")
    room = alice.create_room("cmd")
    bob.ok("post", f"/api/rooms/{room}/join")
    sock, watcher = alice.socket(), bob.socket()
    helped = sock.call("send_message", {"roomId": room, "content": "/help"})
    assert helped["ok"] and helped["command"] == "help" and "/me text" in helped["text"]
    me = sock.call("send_message", {"roomId": room, "content": "/me waves"})
    assert me["message"]["command"] == "me" and me["message"]["content"] == "waves"
    heard = watcher.wait_for("message_received")["message"]
    assert heard["id"] == me["message"]["id"] and heard["command"] == "me"
    unknown = sock.call("send_message", {"roomId": room, "content": "/frobnicate"})
    assert unknown["error"]["code"] == "validation_error"
    assert len(watcher.quiet("message_received")) == 1  # /help and the unknown: nothing
