"""User serialization shared by every transport."""

from chat.models import User
from chat.models.base import isoformat


def serialize_user(user: User, *, private: bool = False) -> dict:
    """The contract's `user`; `private=True` adds the email (the caller's own profile)."""
    data = {"id": str(user.id), "username": user.username, "createdAt": isoformat(user.created_at)}
    if private:
        data["email"] = user.email
    return data
