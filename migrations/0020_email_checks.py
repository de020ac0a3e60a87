"""Email verification: tokens (gone at expiry, found by digest as their id, listed by
user). Accounts made before verification existed keep what they had: their address
counts as verified (password resets and notification emails keep reaching it)."""


def upgrade(db) -> None:
    db.email_checks.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
    db.email_checks.create_index("user", name="user")
    db.users.update_many(
        {"email": {"$type": "string"}, "email_verified": {"$exists": False}},
        {"$set": {"email_verified": True}},
    )
