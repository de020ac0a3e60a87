"""Sessions are documents (listed, revoked one by one, refresh tokens rotated): a
token whose session has no document is refused, so the tokens of the old deny-list
scheme stop working here and their users sign in again once. Password-reset tokens
expire with a TTL index."""

from pymongo import ASCENDING


def upgrade(db) -> None:
    db.sessions.create_index([("user", ASCENDING), ("last_used_at", ASCENDING)], name="user")
    db.sessions.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
    db.password_resets.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
    db.password_resets.create_index("user", name="user")
    db.revoked_sessions.drop()
