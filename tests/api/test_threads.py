"""Threads: replies with `parentId` (REST and socket), the thread's summary on its
top-level message, GET /api/messages/:id/thread, GET /api/threads with unread counts,
`thread_updated`, and room history holding top-level messages (and `alsoInRoom`)."""

import pytest

from tests.conftest import assert_error, eventually, plugin_enabled, snapshot

UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("threads")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def _thread(caller, message_id: str, **query) -> dict:
    return caller.ok("get", f"/api/messages/{message_id}/thread", query_string=query)


def test_replies_form_a_thread_with_an_exact_summary(alice, bob, room):
    parent = alice.send(room, "what shall we eat?")
    first = bob.send(room, "pizza", parentId=parent["id"])
    second = alice.send(room, "sushi", parentId=parent["id"])
    assert first["parentId"] == parent["id"] and first["alsoInRoom"] is False
    assert first["seq"] == parent["seq"] + 1 and second["seq"] == first["seq"] + 1
    page = _thread(bob, parent["id"])
    assert [m["id"] for m in page["messages"]] == [first["id"], second["id"]]
    assert page["hasMore"] is False
    (shown,) = alice.history(room)["messages"]  # the room shows the top-level message
    assert shown["id"] == parent["id"]
    assert shown["thread"] == {
        "replyCount": 2,
        "lastReplyAt": second["timestamp"],
        "participants": sorted([alice.id, bob.id]),
    }
    assert "thread" not in first and "parentId" not in shown


def test_also_in_room_replies_show_in_history_too(alice, bob, room):
    parent = alice.send(room, "news")
    hidden = bob.send(room, "thread only", parentId=parent["id"])
    shown = bob.send(room, "for everyone", parentId=parent["id"], alsoInRoom=True)
    ids = [m["id"] for m in alice.history(room)["messages"]]
    assert ids == [parent["id"], shown["id"]] and hidden["id"] not in ids
    after = alice.history(room, after=parent["id"])["messages"]
    assert [m["id"] for m in after] == [shown["id"]]
    # room unread counts leave thread-only replies to the thread
    rooms = alice.ok("get", "/api/rooms")["rooms"]
    assert next(r for r in rooms if r["id"] == room)["unreadCount"] == 1


def test_deleting_a_reply_recounts_the_thread(alice, bob, room):
    parent = alice.send(room, "poll")
    reply = bob.send(room, "yes", parentId=parent["id"])
    alice.send(room, "no", parentId=parent["id"])
    bob.ok("delete", f"/api/messages/{reply['id']}", 204)
    (shown,) = alice.history(room)["messages"]
    assert shown["thread"]["replyCount"] == 1 and shown["thread"]["participants"] == [alice.id]
    page = _thread(alice, parent["id"])["messages"]  # the tombstone keeps its place
    assert [m.get("deleted", False) for m in page] == [True, False]


def test_thread_pages_by_reply_cursors(alice, room):
    parent = alice.send(room, "count")
    replies = [alice.send(room, str(i), parentId=parent["id"])["id"] for i in range(5)]
    latest = _thread(alice, parent["id"], limit=2)
    assert [m["id"] for m in latest["messages"]] == replies[3:] and latest["hasMore"]
    older = _thread(alice, parent["id"], limit=2, before=replies[3])
    assert [m["id"] for m in older["messages"]] == replies[1:3]
    newer = _thread(alice, parent["id"], limit=10, after=replies[1])
    assert [m["id"] for m in newer["messages"]] == replies[2:] and not newer["hasMore"]
    other = alice.send(room, "not a reply")["id"]
    error = assert_error(
        alice.call("get", f"/api/messages/{parent['id']}/thread", query_string={"after": other}),
        422,
        "validation_error",
    )
    assert "after" in error["fields"]


@pytest.mark.parametrize("case", ["reply to a reply", "other room", "unknown", "deleted", "bad"])
def test_bad_parents_store_nothing(alice, room, db, case):
    parent = alice.send(room, "top")["id"]
    other = alice.create_room("other")["id"]
    target = {
        "reply to a reply": lambda: alice.send(room, "r", parentId=parent)["id"],
        "other room": lambda: alice.send(other, "elsewhere")["id"],
        "unknown": lambda: UNKNOWN,
        "deleted": lambda: _deleted(alice, room),
        "bad": lambda: "nope",
    }[case]()
    before = snapshot(db, "messages", "thread_states")
    body = {"roomId": room, "content": "answer", "parentId": target}
    error = assert_error(alice.call("post", "/api/messages", json=body), 422, "validation_error")
    assert "parentId" in error["fields"]
    assert snapshot(db, "messages", "thread_states") == before


def test_also_in_room_is_a_boolean(alice, room, db):
    top = alice.send(room, "x", alsoInRoom=True)  # a top-level message is in the room anyway
    assert "parentId" not in top and "alsoInRoom" not in top
    before = snapshot(db, "messages")
    for value in ("yes", 1, None):
        body = {"roomId": room, "content": "x", "parentId": top["id"], "alsoInRoom": value}
        response = alice.call("post", "/api/messages", json=body)
        assert "alsoInRoom" in assert_error(response, 422, "validation_error")["fields"]
    assert snapshot(db, "messages") == before


def _deleted(alice, room: str) -> str:
    message = alice.send(room, "gone")["id"]
    alice.ok("delete", f"/api/messages/{message}", 204)
    return message


def test_threads_of_hidden_rooms_are_not_found(alice, bob, make_user, room):
    stranger = make_user("stranger")
    hidden = alice.create_room("secret", isPrivate=True)["id"]
    secret = alice.send(hidden, "secret")["id"]
    assert_error(stranger.call("get", f"/api/messages/{secret}/thread"), 404, "not_found")
    assert_error(stranger.call("get", f"/api/messages/{UNKNOWN}/thread"), 404, "not_found")
    body = {"roomId": hidden, "content": "sneak", "parentId": secret}
    assert_error(stranger.call("post", "/api/messages", json=body), 404, "not_found")
    reply = alice.send(hidden, "r", parentId=secret)["id"]
    error = assert_error(
        alice.call("get", f"/api/messages/{reply}/thread"), 422, "validation_error"
    )
    assert "messageId" in error["fields"]


def test_my_threads_with_unread_counts(alice, bob, make_user, room):
    carol = make_user("carol")
    carol.ok("post", f"/api/rooms/{room}/join")
    lunch = alice.send(room, "lunch?")["id"]
    other = bob.send(room, "release?")["id"]
    bob.send(room, "yes", parentId=lunch)
    bob.send(room, "at noon", parentId=lunch)
    bob.send(room, "friday, @carol?", parentId=other)
    mine = alice.ok("get", "/api/threads")["threads"]
    assert [(t["message"]["id"], t["unreadCount"]) for t in mine] == [(lunch, 2)]
    assert mine[0]["roomId"] == room and mine[0]["message"]["thread"]["replyCount"] == 2
    theirs = carol.ok("get", "/api/threads")["threads"]  # mentioned in a reply
    assert [(t["message"]["id"], t["unreadCount"]) for t in theirs] == [(other, 1)]
    # bob wrote in both: the newest activity first, his own replies are not unread
    assert [
        (t["message"]["id"], t["unreadCount"]) for t in bob.ok("get", "/api/threads")["threads"]
    ] == [(other, 0), (lunch, 0)]
    # reading a thread-only reply moves the thread's pointer, not the room's
    last = _thread(alice, lunch)["messages"][-1]["id"]
    read = alice.ok("post", f"/api/rooms/{room}/read", json={"messageId": last})
    assert read["unreadCount"] == 0
    assert alice.ok("get", "/api/threads")["threads"][0]["unreadCount"] == 0
    rooms = alice.ok("get", "/api/rooms")["rooms"]
    assert next(r for r in rooms if r["id"] == room)["unreadCount"] == 1  # bob's top-level
    # once bob leaves the room, its threads leave his list
    bob.ok("post", f"/api/rooms/{room}/leave", 204)
    assert bob.ok("get", "/api/threads")["threads"] == []


def test_my_threads_pages(alice, room):
    parents = [alice.send(room, f"t{i}")["id"] for i in range(5)]
    for parent in parents:
        alice.send(room, "reply", parentId=parent)
    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = alice.ok("get", "/api/threads", query_string=query)
        seen += [t["message"]["id"] for t in page["threads"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == parents[::-1]
    for bad in ("nope", "x" * 300, "MTIzLm5vcGU="):
        response = alice.call("get", "/api/threads", query_string={"cursor": bad})
        assert_error(response, 422, "validation_error")


def test_replies_and_summaries_over_the_socket(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    parent = alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "q"})
    sock, watcher = alice.socket(), bob.socket()
    for s in (sock, watcher):
        s.call("join_room", {"roomId": room})
    ack = watcher.call(
        "send_message", {"roomId": room, "content": "a", "parentId": parent["id"], "clientId": "r1"}
    )
    assert ack["message"]["parentId"] == parent["id"]
    received = sock.wait_for("message_received")["message"]
    assert received["id"] == ack["message"]["id"] and received["alsoInRoom"] is False
    updated = sock.wait_for("thread_updated")
    assert updated == {
        "roomId": room,
        "messageId": parent["id"],
        "thread": {
            "replyCount": 1,
            "lastReplyAt": ack["message"]["timestamp"],
            "participants": [bob.id],
        },
    }
    again = watcher.call(
        "send_message", {"roomId": room, "content": "a", "parentId": parent["id"], "clientId": "r1"}
    )
    assert again["message"]["id"] == ack["message"]["id"]  # a retry stores it once
    refused = watcher.call(
        "send_message", {"roomId": room, "content": "x", "parentId": ack["message"]["id"]}
    )
    assert refused["error"]["code"] == "validation_error"
    page = alice.ok("get", f"/api/messages/{parent['id']}/thread")
    assert [m["id"] for m in page["messages"]] == [ack["message"]["id"]]
    history = alice.ok("get", f"/api/messages/{room}")["messages"]
    assert [m["id"] for m in history] == [parent["id"]]
    assert history[0]["thread"]["replyCount"] == 1


@pytest.mark.skipif(not plugin_enabled("notifications"), reason="the notifications plugin")
def test_thread_members_are_notified(alice, bob, make_user, room):
    carol = make_user("carol")
    carol.ok("post", f"/api/rooms/{room}/join")
    parent = alice.send(room, "plan")["id"]
    bob.send(room, "idea", parentId=parent)
    carol.send(room, "another", parentId=parent)

    def notes(caller):
        found = caller.ok("get", "/api/notifications")["notifications"]
        return sorted(n["type"] for n in found if n["roomId"] == room)

    # notifications are made by a track_event hook, in the background: waited for
    both = ["thread_reply", "thread_reply"]
    assert eventually(lambda: notes(alice) == both) and notes(alice) == both  # the author
    assert eventually(lambda: notes(bob) == ["thread_reply"])  # carol replied after him
    assert notes(carol) == []
