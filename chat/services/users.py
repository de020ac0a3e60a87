"""Users: lookups shared by every transport."""

from chat.errors import NotFound
from chat.models import User


def find_by_username(username: str) -> User:
    """Raises NotFound unless a user has exactly this username (ignoring case)."""
    user = User.objects(username_lower=username.lower()).first() if len(username) <= 32 else None
    if user is None:
        raise NotFound("User not found.")
    return user
