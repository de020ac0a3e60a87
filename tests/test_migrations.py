"""Migrations run once each, are recorded, and create the indexes the code relies on."""

from datetime import UTC, datetime

from bson import ObjectId

from chat.migrate import _load, apply_migrations, discover
from tests.conftest import plugin_enabled


def test_migrations_are_recorded_and_idempotent(db):
    names = [path.stem for path in discover()]
    assert names[0] == "0001_user_indexes"
    assert {d["_id"] for d in db["schema_migrations"].find()} == set(names)
    assert apply_migrations(db) == []
    db["schema_migrations"].delete_many({})
    assert apply_migrations(db) == names  # re-running every script is harmless


def test_user_indexes_exist(db):
    indexes = db.users.index_information()
    assert indexes["username_unique"]["unique"]
    assert indexes["email_unique_when_set"]["unique"]
    assert "expires_ttl" in db.sessions.index_information()
    assert "expires_ttl" in db.password_resets.index_information()


def test_room_and_message_indexes_exist(db):
    messages = db.messages.index_information()
    assert messages["room_seq"]["unique"] and messages["room_seq"]["key"] == [
        ("room", 1),
        ("seq", 1),
    ]
    assert messages["room_time"]["key"] == [("room", 1), ("timestamp", -1)]
    assert messages["sender_time"]["key"] == [("sender", 1), ("timestamp", -1)]
    assert messages["client_id_once"]["unique"]
    assert messages["client_id_once"]["partialFilterExpression"] == {"client_id": {"$gt": ""}}
    assert "client_id_unique" not in messages
    assert db.rooms.index_information()["participants"]["key"] == [("participants", 1)]
    assert db.rooms.index_information()["direct_key_unique"]["unique"]
    assert db.read_states.index_information()["user_room_unique"]["unique"]


def test_rooms_learn_their_newest_seq(db):
    """Rooms stored before 0004 get `last_seq`, the starting point of the next send."""
    busy, quiet = ObjectId(), ObjectId()
    db.rooms.insert_many([{"_id": busy, "name": "busy"}, {"_id": quiet, "name": "quiet"}])
    db.messages.insert_many([{"room": busy, "seq": seq} for seq in (1, 2, 3)])
    migration = next(p for p in discover() if p.stem.startswith("0004"))
    _load(migration).upgrade(db)
    assert db.rooms.find_one({"_id": busy})["last_seq"] == 3
    assert "last_seq" not in db.rooms.find_one({"_id": quiet})


def test_messages_from_before_search_learn_their_terms(db):
    """Messages stored before 0011 are found by their words afterwards; a deleted one's
    tombstone is found by nothing."""
    room = ObjectId()
    old = {"room": room, "seq": 1, "content": "Café au LAIT", "deleted": False}
    gone = {"room": room, "seq": 2, "content": "secret words", "deleted": True}
    db.messages.insert_many([old, gone])
    _load(next(p for p in discover() if p.stem.startswith("0011"))).upgrade(db)
    found = db.messages.find_one({"room": room, "seq": 1})["terms"]
    assert {"cafe", "au", "lait", "cafe au", "au lait", "caf*", "lai*"} <= set(found)
    assert db.messages.find_one({"room": room, "seq": 2})["terms"] == []
    db.messages.delete_many({"room": room})


def test_messages_learn_their_word_pairs_and_beginnings(db):
    """Messages stored before 0015 and 0016 are found by a phrase's pairs of words and by
    a prefix afterwards; deleted ones stay unfound."""
    room = ObjectId()
    old = {"room": room, "seq": 1, "content": "Deploy failed again", "deleted": False}
    gone = {"room": room, "seq": 2, "content": "deploy failed", "deleted": True, "terms": []}
    db.messages.insert_many([{**old, "terms": ["again", "deploy", "failed"]}, gone])
    for number in ("0015", "0016"):
        _load(next(p for p in discover() if p.stem.startswith(number))).upgrade(db)
    stored = db.messages.find_one({"room": room, "seq": 1})["terms"]
    pairs, starts = ["deploy failed", "failed again"], ["aga*", "dep*", "fai*"]
    assert stored == ["again", "deploy", "failed", *pairs, *starts]
    assert db.messages.find_one({"room": room, "seq": 2})["terms"] == []
    db.messages.delete_many({"room": room})


def test_reactions_move_into_the_plugins_data(app, db, alice):
    """Reactions stored before 0018 (the message's own field) are the reactions plugin's
    afterwards (`data.reactions`), and a client sees them as before."""
    room = alice.create_room()["id"]
    sent = alice.send(room, "old")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    reaction = {"user": ObjectId(alice.id), "emoji": "👍", "timestamp": when}
    moved = {"reactions": [reaction], "data": {"command": "me"}}
    db.messages.update_one({"_id": ObjectId(sent["id"])}, {"$set": moved})
    bare = alice.send(room, "none")
    db.messages.update_one({"_id": ObjectId(bare["id"])}, {"$set": {"reactions": []}})
    migration = next(p for p in discover() if p.stem.startswith("0018"))
    for _ in range(2):  # idempotent
        _load(migration).upgrade(db)
    stored = db.messages.find_one({"_id": ObjectId(sent["id"])})
    assert "reactions" not in stored
    assert stored["data"] == {"command": "me", "reactions": [reaction]}
    assert db.messages.find_one({"_id": ObjectId(bare["id"])})["data"] == {}
    if plugin_enabled("reactions"):
        (shown,) = alice.history(room)["messages"][:1]
        assert shown["reactions"] == [{"user": alice.id, "emoji": "👍",
                                       "timestamp": "2026-01-02T03:04:05.000Z"}]  # fmt: skip
        assert shown["reactionCounts"] == {"👍": 1}


def test_addresses_from_before_verification_count_as_verified(db):
    old, new, bare = ObjectId(), ObjectId(), ObjectId()
    db.users.insert_many([
        {"_id": old, "username_lower": "old", "email": "old@example.com"},
        {"_id": new, "username_lower": "new", "email": "new@example.com", "email_verified": False},
        {"_id": bare, "username_lower": "bare"},
    ])  # fmt: skip
    _load(next(p for p in discover() if p.stem.startswith("0020"))).upgrade(db)
    found = {d["_id"]: d.get("email_verified") for d in db.users.find()}
    assert found == {old: True, new: False, bare: None}
