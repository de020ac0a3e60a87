"""The user directory's prefix search: display names, lowercased, indexed like
usernames (0001), so `GET /api/users/search` is two index range scans."""

from pymongo import ASCENDING


def upgrade(db) -> None:
    db.users.create_index([("display_name_lower", ASCENDING)], name="display_name_lower")
