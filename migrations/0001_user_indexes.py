"""User accounts: unique case-insensitive usernames and emails; TTLs for auth state."""

from pymongo import ASCENDING


def upgrade(db) -> None:
    db.users.create_index([("username_lower", ASCENDING)], unique=True, name="username_unique")
    db.users.create_index([("email", ASCENDING)], unique=True, name="email_unique")
    db.revoked_sessions.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
    db.login_throttles.create_index("updated_at", expireAfterSeconds=86400, name="updated_ttl")
