"""Documents by id: parsing an id, a lean read, an atomic update (the raw collection,
no MongoEngine queryset on hot paths)."""

from bson import ObjectId
from mongoengine import Document
from pymongo import ReturnDocument

from chat.errors import NotFound


def to_oid(value: str | ObjectId, what: str = "Resource") -> ObjectId:
    """Parse an id; a malformed id is simply 'not found' (it leaks nothing)."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and ObjectId.is_valid(value) and len(value) == 24:
        return ObjectId(value)
    raise NotFound(f"{what} not found.")


def find_document(cls: type[Document], query: dict):
    """find_one on the raw collection (no MongoEngine queryset on hot paths); or None."""
    doc = cls._get_collection().find_one(query)
    return cls._from_son(doc) if doc else None


def atomic_update(cls: type[Document], query: dict, update: dict, projection=None):
    """find_one_and_update on the raw collection; the updated document, or None."""
    doc = cls._get_collection().find_one_and_update(
        query, update, projection, return_document=ReturnDocument.AFTER
    )
    return cls._from_son(doc) if doc else None
