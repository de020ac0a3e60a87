"""Retention finds live messages by age without a scan (only live ones are indexed),
and its lease lives in `leases`."""

from pymongo import ASCENDING


def upgrade(db) -> None:
    db.messages.create_index(
        [("timestamp", ASCENDING)],
        name="live_by_age",
        partialFilterExpression={"deleted": False},
    )
