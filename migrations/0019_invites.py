"""Invite links: found by their token's digest (unique), listed by creator, gone at expiry."""


def upgrade(db) -> None:
    db.invites.create_index("digest", unique=True, name="digest_unique")
    db.invites.create_index("created_by", name="created_by")
    db.invites.create_index("rooms", name="rooms")
    db.invites.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
