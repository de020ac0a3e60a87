"""Migrations run once each, are recorded, and create the indexes the code relies on."""

from chat.migrate import apply_migrations, discover


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
    assert indexes["email_unique"]["unique"]
    assert "expires_ttl" in db.revoked_sessions.index_information()


def test_room_and_message_indexes_exist(db):
    messages = db.messages.index_information()
    assert messages["room_seq"]["unique"] and messages["room_seq"]["key"] == [
        ("room", 1),
        ("seq", 1),
    ]
    assert messages["room_time"]["key"] == [("room", 1), ("timestamp", -1)]
    assert messages["sender_time"]["key"] == [("sender", 1), ("timestamp", -1)]
    assert messages["client_id_unique"]["unique"]
    assert db.rooms.index_information()["participants"]["key"] == [("participants", 1)]
    assert db.rooms.index_information()["direct_key_unique"]["unique"]
    assert db.read_states.index_information()["user_room_unique"]["unique"]
