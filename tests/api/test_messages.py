"""Messages over REST: send, idempotent retries, history paging, edit, delete, mentions."""

import threading

from bson import ObjectId

from chat import hookimpl
from chat.models import Message
from tests.conftest import assert_error


def _room_with(alice, bob) -> str:
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_send_returns_the_stored_message(alice, bob):
    room = _room_with(alice, bob)
    message = alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "hi"})
    assert message["roomId"] == room and message["content"] == "hi"
    assert message["sender"] == {"id": alice.id, "username": "alice"}
    assert message["messageType"] == "text" and message["edited"] is False
    assert message["seq"] == 1 and message.get("reactions", []) == []  # (a plugin's field)
    assert message["timestamp"].endswith("Z")
    assert "deleted" not in message and "clientId" not in message
    assert bob.history(room)["messages"] == [message]


def test_seq_increases_per_room(alice, bob):
    room = _room_with(alice, bob)
    other = alice.create_room("other")["id"]
    seqs = [alice.send(room)["seq"], bob.send(room)["seq"], alice.send(other)["seq"]]
    assert seqs == [1, 2, 1]


def test_client_id_makes_sends_idempotent(alice, bob):
    room = _room_with(alice, bob)
    body = {"roomId": room, "content": "once", "clientId": "c-1"}
    first = alice.ok("post", "/api/messages", 201, json=body)
    again = alice.ok("post", "/api/messages", 200, json={**body, "content": "changed"})
    assert again == first
    # the same clientId from another user is another message
    assert bob.ok("post", "/api/messages", 201, json=body)["sender"]["id"] == bob.id
    assert Message.objects(room=room).count() == 2


def test_concurrent_retries_store_one_message(app, alice):
    room = alice.create_room("general")["id"]
    body = {"roomId": room, "content": "race", "clientId": "same"}
    results = []

    def send():
        with app.test_client() as client:
            results.append(client.post("/api/messages", json=body, headers=alice.headers))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.get_json()["id"] for r in results}) == 1
    assert Message.objects(room=room).count() == 1


def test_history_pages_back_through_250_messages_in_order(alice, bob):
    room = _room_with(alice, bob)
    sent = [alice.send(room, f"m{i}")["id"] for i in range(250)]
    page = bob.history(room, limit=100)
    got = [m["id"] for m in page["messages"]]
    while page["hasMore"]:
        page = bob.history(room, limit=100, before=page["messages"][0]["id"])
        got = [m["id"] for m in page["messages"]] + got
    assert got == sent
    # and forwards from the start
    page = bob.history(room, limit=100, after=sent[0])
    forward = [sent[0]] + [m["id"] for m in page["messages"]]
    while page["hasMore"]:
        page = bob.history(room, limit=100, after=forward[-1])
        forward += [m["id"] for m in page["messages"]]
    assert forward == sent


def test_history_window_and_default_page(alice):
    room = alice.create_room("general")["id"]
    ids = [alice.send(room, f"m{i}")["id"] for i in range(10)]
    latest = alice.history(room, limit=3)
    assert [m["id"] for m in latest["messages"]] == ids[-3:] and latest["hasMore"] is True
    window = alice.history(room, after=ids[2], before=ids[6])
    assert [m["id"] for m in window["messages"]] == ids[3:6] and window["hasMore"] is False
    everything = alice.history(room)
    assert len(everything["messages"]) == 10 and everything["hasMore"] is False


def test_history_paging_is_stable_under_concurrent_inserts(app, alice, bob):
    room = _room_with(alice, bob)
    first = [alice.send(room, f"a{i}")["id"] for i in range(30)]
    stop = threading.Event()

    def writer():
        with app.test_client() as client:
            for i in range(60):
                if stop.is_set():
                    break
                body = {"roomId": room, "content": f"b{i}"}
                client.post("/api/messages", json=body, headers=bob.headers)

    thread = threading.Thread(target=writer)
    thread.start()
    seen, cursor = [], first[0]
    try:
        for _ in range(200):
            written = not thread.is_alive()  # before the read: this page holds them all
            page = alice.history(room, limit=7, after=cursor)
            seen += [m["seq"] for m in page["messages"]]
            if page["messages"]:
                cursor = page["messages"][-1]["id"]
            if not page["hasMore"] and written:
                break
    finally:
        stop.set()
        thread.join()
    total = Message.objects(room=room).count()
    assert seen == list(range(2, total + 1))  # every message once, in order, no gap


def test_history_limits_and_cursors_are_validated(alice, bob):
    room = _room_with(alice, bob)
    other = alice.create_room("other")["id"]
    foreign = alice.send(other)["id"]
    for query in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"before": "nope"}):
        assert_error(
            alice.call("get", f"/api/messages/{room}", query_string=query), 422, "validation_error"
        )
    response = alice.call("get", f"/api/messages/{room}", query_string={"after": foreign})
    assert "after" in assert_error(response, 422, "validation_error")["fields"]


def test_content_limits(app, alice):
    room = alice.create_room("general")["id"]
    limit = app.config["MESSAGE_MAX_LENGTH"]
    assert alice.send(room, "x" * limit)["content"] == "x" * limit
    for content in ("x" * (limit + 1), "   ", ""):
        response = alice.call("post", "/api/messages", json={"roomId": room, "content": content})
        assert "content" in assert_error(response, 422, "validation_error")["fields"]
    assert Message.objects(room=room).count() == 1


def test_mentions_are_parsed_for_room_members_only(alice, bob, make_user):
    room = _room_with(alice, bob)
    make_user("carol")  # exists but is not in the room
    message = alice.send(room, "hey @Bob and @carol, mail me at x@bob.com @bob")
    assert message["mentions"] == [bob.id]
    edited = alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "@alice"})
    assert edited["mentions"] == [alice.id]


def test_edit_is_for_the_sender(alice, bob):
    room = _room_with(alice, bob)
    message = alice.send(room, "first")
    assert_error(
        bob.call("patch", f"/api/messages/{message['id']}", json={"content": "x"}), 403, "forbidden"
    )
    edited = alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "second"})
    assert edited["content"] == "second" and edited["edited"] is True
    assert edited["editedAt"].endswith("Z") and edited["seq"] == message["seq"]
    assert bob.history(room)["messages"] == [edited]


def test_delete_leaves_a_tombstone(alice, bob):
    room = _room_with(alice, bob)
    mine = bob.send(room, "bob's", clientId="b1")
    theirs = bob.send(room, "another")
    assert_error(bob.call("delete", f"/api/messages/{alice.send(room)['id']}"), 403, "forbidden")
    bob.ok("delete", f"/api/messages/{mine['id']}", 204)
    alice.ok("delete", f"/api/messages/{theirs['id']}", 204)  # admin
    alice.ok("delete", f"/api/messages/{theirs['id']}", 204)  # idempotent
    tombstone = bob.history(room)["messages"][0]
    assert tombstone["id"] == mine["id"] and tombstone["seq"] == mine["seq"]
    assert tombstone["deleted"] is True and tombstone["content"] == ""
    assert tombstone["deletedAt"].endswith("Z")
    assert Message.objects.get(id=mine["id"]).content == ""
    assert_error(
        bob.call("patch", f"/api/messages/{mine['id']}", json={"content": "x"}), 409, "conflict"
    )
    # a retry of a deleted message's clientId still returns the tombstone, not a new message
    assert bob.send(room, "again", clientId="b1")["deleted"] is True


def test_image_and_file_message_types(alice):
    room = alice.create_room("general")["id"]
    image = alice.send(room, "https://example.com/cat.png", messageType="image")
    assert image["messageType"] == "image"
    response = alice.call(
        "post", "/api/messages", json={"roomId": room, "content": "x", "messageType": "video"}
    )
    assert "messageType" in assert_error(response, 422, "validation_error")["fields"]


def test_sending_updates_last_activity(alice):
    room = alice.create_room("general")
    message = alice.send(room["id"])
    assert alice.ok("get", f"/api/rooms/{room['id']}")["lastActivity"] == message["timestamp"]


def test_a_send_builds_its_message_once(app, alice):
    """The broadcast and the REST body are one payload: extend_message runs once per
    send, and what it added is in the answer."""
    calls = []

    class Counting:
        @hookimpl
        def extend_message(self, message):
            calls.append(message.content)
            return {"counted": len(calls)}

    plugins = app.extensions["plugins"]
    plugins.register(Counting(), name="counting")
    try:
        room = alice.create_room()["id"]
        sent = alice.send(room, "once")
        retried = alice.send(room, "twice", clientId="c1")
        again = alice.send(room, "twice", clientId="c1")  # a retry: the stored message
    finally:
        plugins.unregister(name="counting")
    assert calls == ["once", "twice", "twice"]
    assert (sent["counted"], retried["counted"], again["counted"]) == (1, 2, 3)


def test_a_stored_field_this_release_does_not_know_is_read_and_kept(app, alice):
    """A message written by another release (a newer one, rolled back) may hold a field
    this one does not know: history, search and an edit still answer, and the field
    stays in the database."""
    room = alice.create_room("general")["id"]
    message = alice.send(room, "lanterns tonight")
    with app.app_context():
        stored = Message._get_collection()
        stored.update_one({"_id": ObjectId(message["id"])}, {"$set": {"glow": "amber"}})
    assert [m["id"] for m in alice.history(room)["messages"]] == [message["id"]]
    found = alice.ok("get", "/api/search/messages", query_string={"q": "lanterns"})
    assert [m["id"] for m in found["messages"]] == [message["id"]]
    edited = alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "lanterns"})
    assert edited["content"] == "lanterns"
    with app.app_context():
        assert stored.find_one({"_id": ObjectId(message["id"])})["glow"] == "amber"
