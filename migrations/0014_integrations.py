"""API tokens (a user's, listing and revoking them all), incoming webhooks and
subscriptions (a room's), the deliveries due (the oldest first), and push devices (a
user's; one registration per token or endpoint)."""

from pymongo import ASCENDING, DESCENDING


def upgrade(db) -> None:
    db.api_tokens.create_index([("user", ASCENDING)], name="user")
    db.api_tokens.create_index([("owner", ASCENDING)], name="owner")
    db.webhooks.create_index([("room", ASCENDING)], name="room")
    db.subscriptions.create_index([("room", ASCENDING)], name="room")
    db.subscriptions.create_index(
        [("key", ASCENDING)],
        unique=True,
        partialFilterExpression={"key": {"$type": "string"}},
        name="server_key",
    )
    db.deliveries.create_index([("state", ASCENDING), ("next_at", ASCENDING)], name="due")
    db.deliveries.create_index(
        [("subscription", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)],
        name="by_subscription",
    )
    db.devices.create_index([("user", ASCENDING)], name="user")
    db.devices.create_index(
        [
            ("user", ASCENDING),
            ("platform", ASCENDING),
            ("token", ASCENDING),
            ("endpoint", ASCENDING),
        ],
        unique=True,
        name="one_registration",
    )
