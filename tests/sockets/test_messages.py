"""Message events over a real socket: send, retries, edit, delete, sync, REST parity."""

import contextlib
import gc

import pytest

from chat.models import Message


def _pair(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    return alice, bob, room


def test_send_message_is_stored_before_the_ack_and_broadcast(people):
    alice, bob, room = _pair(people)
    a, a2, b = alice.socket(), alice.socket(), bob.socket()
    ack = a.call("send_message", {"roomId": room, "message": "hello", "timestamp": 1})
    assert ack["ok"] is True
    message = ack["message"]
    assert Message.objects(id=message["id"]).count() == 1  # stored when acked
    assert message["seq"] == 1 and message["timestamp"].endswith("Z")
    got = b.wait_for("message_received")
    assert got == {
        "message": message,
        "sender": message["sender"],
        "timestamp": message["timestamp"],
    }
    assert a2.wait_for("message_received")["message"]["id"] == message["id"]  # other device
    assert a.quiet("message_received") == []  # not echoed to the sending socket


def test_a_user_id_in_the_payload_is_ignored(people):
    alice, bob, room = _pair(people)
    ack = alice.socket().call("send_message", {"roomId": room, "content": "x", "userId": bob.id})
    assert ack["message"]["sender"]["id"] == alice.id


def test_send_refusals(people, app):
    alice, bob, room = _pair(people)
    carol = people("carol")
    outsider, member = carol.socket(), bob.socket()
    private = alice.create_room("secret", isPrivate=True)
    too_long = "x" * (app.config["MESSAGE_MAX_LENGTH"] + 1)
    cases = {
        "forbidden": {"roomId": room, "content": "not a member"},
        "not_found": {"roomId": private, "content": "hidden room"},
        "validation_error": [
            {"roomId": room},
            {"roomId": room, "content": too_long},
            {"roomId": "nope", "content": "x"},
            {"roomId": room, "content": {"$ne": None}},
            {"roomId": room, "content": "x", "seq": 5},
            "just a string",
        ],
    }
    for code, payloads in cases.items():
        sock = member if code == "validation_error" else outsider
        for payload in payloads if isinstance(payloads, list) else [payloads]:
            ack = sock.call("send_message", payload)
            assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    assert Message.objects.count() == 0


def test_client_id_retries_store_and_broadcast_once(people):
    alice, bob, room = _pair(people)
    a, b = alice.socket(), bob.socket()
    payload = {"roomId": room, "content": "once", "clientId": "retry-1"}
    first, second = a.call("send_message", payload), a.call("send_message", payload)
    assert first == second and first["ok"]
    # the same retry over REST answers with the same stored message too
    rest = alice.ok("post", "/api/messages", 200, json=payload)
    assert rest == first["message"]
    assert len(b.quiet("message_received", 0.7)) == 1
    assert Message.objects(room=room).count() == 1


def test_edit_and_delete_events(people):
    alice, bob, room = _pair(people)
    a, b = alice.socket(), bob.socket()
    message = a.call("send_message", {"roomId": room, "content": "draft"})["message"]
    edited = a.call("edit_message", {"messageId": message["id"], "content": "final"})
    assert edited["ok"] and edited["message"]["edited"] is True
    assert b.wait_for("message_updated") == {"message": edited["message"]}
    refused = b.call("edit_message", {"messageId": message["id"], "content": "mine now"})
    assert refused["error"]["code"] == "forbidden"
    assert b.call("delete_message", {"messageId": message["id"]})["error"]["code"] == "forbidden"
    assert a.call("delete_message", {"messageId": message["id"]}) == {
        "ok": True,
        "messageId": message["id"],
    }
    assert b.wait_for("message_deleted") == {"messageId": message["id"], "roomId": room}


def test_reconnect_and_sync_fills_the_gap_exactly(people):
    alice, bob, room = _pair(people)
    a, b = alice.socket(), bob.socket()
    seen = [
        a.call("send_message", {"roomId": room, "content": f"live {i}"})["message"]
        for i in range(3)
    ]
    assert len(b.quiet("message_received", 0.3)) == 3
    b.close()
    missed = [
        a.call("send_message", {"roomId": room, "content": f"missed {i}"})["message"]
        for i in range(130)
    ]
    b = bob.socket()
    got, after = [], seen[-1]["id"]
    while True:
        ack = b.call("sync", {"roomId": room, "after": after})
        got += ack["messages"]
        if not ack["hasMore"]:
            break
        assert len(ack["messages"]) == 100  # a gap longer than a page says hasMore
        after = ack["messages"][-1]["id"]
    assert [m["id"] for m in got] == [m["id"] for m in missed]
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(set(seqs)) and seqs[0] == seen[-1]["seq"] + 1


def test_sync_from_the_start_and_refusals(people):
    alice, bob, room = _pair(people)
    a = alice.socket()
    for i in range(3):
        a.call("send_message", {"roomId": room, "content": str(i)})
    ack = bob.socket().call("sync", {"roomId": room, "limit": 2})
    assert [m["content"] for m in ack["messages"]] == ["0", "1"] and ack["hasMore"] is True
    carol = people("carol")
    assert carol.socket().call("sync", {"roomId": room})["error"]["code"] == "forbidden"
    assert a.call("sync", {"roomId": room, "limit": 101})["error"]["code"] == "validation_error"


def test_rest_and_socket_give_identical_payloads_and_errors(people, app):
    alice, bob, room = _pair(people)
    a, b = alice.socket(), bob.socket()
    via_socket = a.call("send_message", {"roomId": room, "content": "s", "clientId": "s1"})
    via_rest = alice.ok(
        "post", "/api/messages", 201, json={"roomId": room, "content": "r", "clientId": "r1"}
    )
    by_socket = b.wait_for("message_received", lambda d: d["message"]["content"] == "s")
    by_rest = b.wait_for("message_received", lambda d: d["message"]["content"] == "r")
    assert by_socket["message"] == via_socket["message"]
    assert by_rest["message"] == via_rest

    def shape(event):
        m = event["message"]
        return sorted(event), sorted(m), m["sender"], m["messageType"], m["edited"]

    assert shape(by_socket) == shape(by_rest)
    too_long = "x" * (app.config["MESSAGE_MAX_LENGTH"] + 1)
    for body in ({"roomId": room, "content": too_long}, {"roomId": room, "content": " "}):
        rest_error = alice.rest("post", "/api/messages", json=body).json()["error"]
        socket_error = a.call("send_message", body)["error"]
        assert rest_error == socket_error
    carol = people("carol")
    body = {"roomId": room, "content": "x"}
    assert (
        carol.rest("post", "/api/messages", json=body).json()["error"]
        == carol.socket().call("send_message", body)["error"]
    )


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_oversized_frame_closes_the_connection_and_stores_nothing(people, live):
    alice = people("alice")
    room = alice.create_room()
    sock = alice.socket()
    with contextlib.suppress(Exception):  # the client may notice the close while sending
        sock.sio.emit("send_message", {"roomId": room, "content": "x" * 70_000}, namespace="/chat")
    assert sock.wait_disconnected(5)
    sock.sio.eio.disconnect()  # release the client's half-closed socket now, not at GC
    gc.collect()
    assert Message.objects(room=room).count() == 0
    assert people("bob").socket().connected  # the server is fine
