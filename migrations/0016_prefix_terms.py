"""Search: a message's `terms` also hold its words' beginnings ("dep*"), by which a
prefix is found (services/search); messages from before get theirs here."""

from chat.store.terms import reindex


def upgrade(db) -> None:
    reindex(db)
