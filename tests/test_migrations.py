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
