"""User serialization shared by every transport."""

from chat.errors import NotFound
from chat.models import User
from chat.models.base import isoformat


def serialize_user(user: User, *, private: bool = False) -> dict:
    """The contract's `user`; `private=True` adds the email (the caller's own profile)."""
    data = {"id": str(user.id), "username": user.username, "createdAt": isoformat(user.created_at)}
    if private:
        data["email"] = user.email or user.unclaimed_email
    return data


def find_by_username(username: str) -> User:
    """Raises NotFound unless a user has exactly this username (ignoring case)."""
    user = User.objects(username_lower=username.lower()).first() if len(username) <= 32 else None
    if user is None:
        raise NotFound("User not found.")
    return user
