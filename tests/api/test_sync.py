"""Complete sync (RELIABILITY row 35): GET /api/sync and socket sync_all return every
change in the caller's rooms after a cursor, exactly once, in rev order per room, with
room_added / room_removed; cursors are the caller's own; old ones are 410."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from chat.store import changelog
from tests.conftest import assert_error, plugin_enabled


def _walk(user, cursor: str, limit: int = 3) -> tuple[list[dict], str]:
    """Every page after `cursor`: the changes and the last cursor."""
    seen = []
    for _ in range(200):
        page = user.ok("get", "/api/sync", query_string={"since": cursor, "limit": limit})
        seen += page["changes"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return seen, cursor
    raise AssertionError("sync never ended")


def _start(user) -> str:
    first = user.ok("get", "/api/sync")
    assert first["changes"] == [] and first["hasMore"] is False
    return first["cursor"]


def _assert_once_in_order(seen: list[dict]) -> None:
    keys = [
        (c["roomId"], c["rev"]) for c in seen if c["type"] not in ("room_added", "room_removed")
    ]
    assert len(keys) == len(set(keys)), "a change came twice"
    for room in {r for r, _ in keys}:
        revs = [rev for r, rev in keys if r == room]
        assert revs == sorted(revs), f"room {room} out of rev order: {revs}"


def test_without_a_cursor_only_the_cursor(alice, bob):
    room = alice.create_room()["id"]
    alice.send(room, "before any cursor")
    cursor = _start(alice)
    assert _walk(alice, cursor)[0] == []
    bob.ok("post", f"/api/rooms/{room}/join")
    assert [c["type"] for c in _walk(alice, cursor)[0]] == ["member_joined"]


def test_row35_an_offline_client_gets_every_change_once(alice, bob, make_user):
    carol, dave = make_user("carol"), make_user("dave")
    general = alice.create_room("general")["id"]
    side = carol.create_room("side")["id"]
    for member in (bob, dave):
        member.ok("post", f"/api/rooms/{general}/join")
    alice.ok("post", f"/api/rooms/{side}/join")
    cursor = _start(alice)  # alice goes offline here

    sent = [bob.send(general, f"m{i}")["id"] for i in range(4)]
    bob.ok("patch", f"/api/messages/{sent[0]}", json={"content": "m0, edited"})
    bob.ok("delete", f"/api/messages/{sent[1]}", 204)
    reacted = plugin_enabled("reactions")
    if reacted:
        dave.ok("post", f"/api/messages/{sent[2]}/reactions", json={"emoji": "👍"})
    alice.ok("put", f"/api/rooms/{general}/admins/{bob.id}")  # still alice: her own change
    dave.ok("post", f"/api/rooms/{general}/leave", 204)
    gone = dave.call("post", f"/api/rooms/{general}/read", json={"messageId": sent[3]})
    assert_error(gone, 403, "forbidden")  # left: no receipt
    bob.ok("post", f"/api/rooms/{general}/read", json={"messageId": sent[3]})
    carol.ok("delete", f"/api/rooms/{side}/members/{alice.id}")  # alice is kicked from side
    carol.send(side, "after alice left")
    third = dave.create_room("third")["id"]
    dave.ok("post", f"/api/rooms/{third}/members", json={"userId": alice.id})
    dave.send(third, "welcome")

    seen, cursor = _walk(alice, cursor)
    _assert_once_in_order(seen)
    by_type = {}
    for change in seen:
        by_type.setdefault(change["type"], []).append(change)
    created = [
        c["data"]["message"]["id"] for c in by_type["message_created"] if c["roomId"] == general
    ]
    assert created == sent
    updated = {
        c["data"]["message"]["id"]: c["data"]["message"] for c in seen if "message" in c["data"]
    }
    assert updated[sent[0]]["content"] == "m0, edited" and updated[sent[1]]["deleted"] is True
    assert [c["data"]["message"]["id"] for c in by_type["message_deleted"]] == [sent[1]]
    if reacted:
        assert by_type["reaction_updated"][0]["data"]["message"]["reactions"][0]["emoji"] == "👍"
    assert [c["data"]["userId"] for c in by_type["role_changed"]] == [bob.id]
    assert [c["data"]["userId"] for c in by_type["member_left"] if c["roomId"] == general] == [
        dave.id
    ]
    assert [c["data"]["userId"] for c in by_type["read_updated"]] == [bob.id]
    assert by_type["read_updated"][0]["data"]["lastReadMessageId"] == sent[3]
    removed = by_type["room_removed"]
    assert [c["roomId"] for c in removed] == [side]
    assert not [c for c in seen if c["roomId"] == side and c["type"] != "room_removed"]
    (added,) = by_type["room_added"]
    assert added["roomId"] == third and added["data"]["room"]["name"] == "third"
    assert _walk(alice, cursor)[0] == []  # nothing twice


def test_a_page_walk_across_archiving_is_the_same(monkeypatch, alice, bob):
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    cursor = _start(alice)
    sent = [bob.send(room, str(i))["id"] for i in range(6)]
    first_page = alice.ok("get", "/api/sync", query_string={"since": cursor, "limit": 2})
    monkeypatch.setattr(changelog, "ARCHIVE_AFTER", 0.0)
    assert changelog.archive(ObjectId(room)) == 7  # bob joining and the 6: all to `changes`
    rest, _ = _walk(alice, first_page["cursor"], limit=2)
    seen = first_page["changes"] + rest
    assert [c["data"]["message"]["id"] for c in seen] == sent
    _assert_once_in_order(seen)
    walked_again, _ = _walk(alice, cursor, limit=4)  # the same cursor again: the same
    assert [c["rev"] for c in walked_again] == [c["rev"] for c in seen]


def test_archiving_shortens_every_kind_of_room(app, monkeypatch, alice, bob, db):
    """Direct rooms and rooms from before complete sync (no log fields) too."""
    direct = alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})["id"]
    older = alice.create_room("older")["id"]
    db.rooms.update_one(
        {"_id": ObjectId(older)}, {"$unset": {"rev": "", "log_base": "", "log": ""}}
    )
    cursor = _start(bob)
    for room in (direct, older):
        if room == older:
            bob.ok("post", f"/api/rooms/{room}/join")
        alice.send(room, f"in {room}")
    monkeypatch.setattr(changelog, "ARCHIVE_AFTER", 0.0)
    with app.app_context():
        assert changelog.archive_due() >= 3
        assert changelog.archive_due() == 0  # done once: nothing left to move
    for room in (direct, older):
        assert db.rooms.find_one({"_id": ObjectId(room)})["log"] == []
    seen, _ = _walk(bob, cursor)
    assert sorted(c["type"] for c in seen) == ["message_created", "message_created", "room_added"]


def test_a_change_in_flight_ends_its_rooms_page_until_done(app, alice, bob, db):
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    cursor = _start(alice)
    bob.send(room, "before")
    with app.app_context():
        entry = changelog.append(ObjectId(room), "message_updated", ObjectId())
    bob.send(room, "after")
    seen, _ = _walk(alice, cursor)
    assert [c["data"]["message"]["content"] for c in seen] == ["before"]
    # its write failed long ago: passed over, and what came after arrives
    old = datetime.now(UTC) - timedelta(seconds=changelog.GRACE + 1)
    db.rooms.update_one({"_id": ObjectId(room), "log.id": entry.id}, {"$set": {"log.$.at": old}})
    seen, _ = _walk(alice, cursor)
    assert [c["data"]["message"]["content"] for c in seen] == ["before", "after"]


def test_entries_in_flight_stay_in_the_log_until_settled(app, monkeypatch, alice, bob, db):
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    with app.app_context():
        entry = changelog.append(ObjectId(room), "message_updated", ObjectId())
    bob.send(room, "behind it")
    monkeypatch.setattr(changelog, "ARCHIVE_AFTER", 0.0)
    with app.app_context():
        assert changelog.archive(ObjectId(room)) == 1  # bob's join; the rest waits
        log = db.rooms.find_one({"_id": ObjectId(room)})["log"]
        assert [e["type"] for e in log] == ["message_updated", "message_created"]
        db.rooms.update_one(  # its writer finishes
            {"_id": ObjectId(room), "log.id": entry.id}, {"$set": {"log.$.done": True}}
        )
        assert changelog.archive(ObjectId(room)) == 2
    stored = db.changes.find({"room": ObjectId(room)}).sort("rev", 1)
    assert [(c["rev"], c["type"], c["done"]) for c in stored] == [
        (1, "member_joined", True),
        (2, "message_updated", True),
        (3, "message_created", False),
    ]


def test_socket_sync_all_answers_as_rest(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    sock = alice.socket()
    cursor = sock.call("sync_all", {})["cursor"]
    bob.ok("post", "/api/messages", 201, json={"roomId": room, "content": "hi"})
    over_socket = sock.call("sync_all", {"since": cursor})
    over_rest = alice.ok("get", "/api/sync", params={"since": cursor})
    assert over_socket["ok"] and over_socket["changes"] == over_rest["changes"]
    assert [c["type"] for c in over_rest["changes"]] == ["message_created"]
    assert sock.call("sync_all", {"since": "forged.cursor"})["error"]["code"] == "validation_error"


@pytest.mark.parametrize("since", ["", "x" * 65, "not a cursor", "ffffffffff.abc", "zz.abc"])
def test_bad_and_forged_cursors_are_refused(alice, since):
    response = alice.call("get", "/api/sync", query_string={"since": since})
    assert_error(response, 422, "validation_error")


def test_another_users_cursor_is_unknown(alice, bob):
    cursor = _start(bob)
    assert_error(
        alice.call("get", "/api/sync", query_string={"since": cursor}), 422, "validation_error"
    )


@pytest.mark.parametrize("limit", [0, 501, "many"])
def test_bad_limits(alice, limit):
    cursor = _start(alice)
    response = alice.call("get", "/api/sync", query_string={"since": cursor, "limit": limit})
    assert_error(response, 422, "validation_error")


def test_old_cursors_and_purged_changes_are_410(app, monkeypatch, alice, bob, db):
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    cursor = _start(alice)
    bob.send(room, "soon purged")
    monkeypatch.setattr(changelog, "ARCHIVE_AFTER", 0.0)
    with app.app_context():
        changelog.archive(ObjectId(room))
    db.changes.delete_many({"room": ObjectId(room)})  # retention took them
    assert_error(
        alice.call("get", "/api/sync", query_string={"since": cursor}), 410, "sync_expired"
    )
    fresh = _start(alice)
    days = app.config["SYNC_RETENTION_DAYS"]
    aged = datetime.now(UTC) - timedelta(days=days + 1)
    db.sync_cursors.update_one({"_id": fresh}, {"$set": {"created_at": aged}})
    assert_error(alice.call("get", "/api/sync", query_string={"since": fresh}), 410, "sync_expired")
    db.sync_cursors.delete_one({"_id": fresh})
    stamp = f"{int((datetime.now(UTC) - timedelta(days=days + 1)).timestamp()):x}"
    purged = f"{stamp}.{fresh.partition('.')[2]}"
    assert_error(
        alice.call("get", "/api/sync", query_string={"since": purged}), 410, "sync_expired"
    )
