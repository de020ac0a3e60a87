"""Search: a message's `terms` also hold its pairs of neighbouring words, by which a
phrase is found (services/search); messages from before get theirs here."""

from chat.store.terms import reindex


def upgrade(db) -> None:
    reindex(db)
