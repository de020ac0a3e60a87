"""Emails unique only where an account has one: a registration that names another
account's email makes an account without one (so registering never tells whether an
email is known). The partial index is built before the old one is dropped, so an
email is never unguarded; `$gt: ""` is implied by `email: "<value>"`, so logins by
email stay index lookups (see 0004).
"""

import contextlib

from pymongo import ASCENDING
from pymongo.errors import OperationFailure


def upgrade(db) -> None:
    db.users.create_index(
        [("email", ASCENDING)],
        unique=True,
        partialFilterExpression={"email": {"$gt": ""}},
        name="email_unique_when_set",
    )
    with contextlib.suppress(OperationFailure):  # gone already: another process ran this
        db.users.drop_index("email_unique")
