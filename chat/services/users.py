"""Users: lookups, the directory and profiles, shared by every transport."""

from bson import ObjectId

from chat import wire
from chat.actor import Actor
from chat.errors import NotFound
from chat.events import UserUpdated
from chat.live.publish import publish
from chat.models import User
from chat.models.user import Status
from chat.services import policy, presence


def view(viewer: Actor, user: User) -> dict:
    """A user as `viewer` may see them (`policy.sees`): no status of someone the
    viewer blocked (nor, live, their updates: `UserUpdated` is hidden from blockers)."""
    shown = wire.user(user)
    if not policy.sees(viewer.id, user, "status"):
        shown["status"] = None
    return shown


def find_by_username(username: str) -> User:
    """Raises NotFound unless a user has exactly this username (ignoring case)."""
    user = User.objects(username_lower=username.lower()).first() if len(username) <= 32 else None
    if user is None:
        raise NotFound("User not found.")
    return user


def get_user(user_id: str) -> User:
    """Any user by id (the directory is open to every signed-in user); 404 unknown."""
    user = User.objects(id=ObjectId(user_id)).first() if ObjectId.is_valid(user_id) else None
    if user is None:
        raise NotFound("User not found.")
    return user


def get_users(user_ids: list[str]) -> list[User]:
    """The users among `user_ids` that exist, in the order asked (unknown ones left out)."""
    found = {str(u.id): u for u in User.objects(id__in=[ObjectId(i) for i in set(user_ids)])}
    return [found[i] for i in dict.fromkeys(user_ids) if i in found]


def search(prefix: str, limit: int) -> list[User]:
    """Active users whose username or display name starts with `prefix` (any case):
    two index range scans (never a regex over the collection), usernames first."""
    low = prefix.lower()
    high = low + "\U0010ffff"
    found: dict[str, User] = {}
    for field in ("username_lower", "display_name_lower"):
        query = {f"{field}__gte": low, f"{field}__lt": high, "deactivated__ne": True}
        for user in User.objects(**query).order_by(field).limit(limit):
            found.setdefault(str(user.id), user)
    return sorted(found.values(), key=lambda u: u.username_lower)[:limit]


def update_profile(actor: Actor, changes: dict) -> User:
    """Change the actor's display name, status or settings; the rooms they are in and
    their own sockets get `user_updated`. A request that changes nothing tells no one."""
    updates: dict = {}
    if "display_name" in changes:
        name = changes["display_name"].strip()
        updates |= {"set__display_name": name, "set__display_name_lower": name.lower()}
    if "status" in changes:
        status = changes["status"]
        if status is None or not (status["text"] or status["emoji"]):
            updates["unset__status"] = True
        else:
            updates["set__status"] = Status(**status)
    if "read_receipts" in changes.get("settings", {}):
        updates["set__read_receipts"] = changes["settings"]["read_receipts"]
    user = actor.user
    before = wire.user(user)
    if updates:
        User.objects(id=user.id).update_one(**updates)
        user.reload()
    if wire.user(user) != before:  # settings are the user's own: no one else is told
        announce(user)
    return user


def announce(user: User) -> None:
    """`user_updated` with the user's public fields, to their rooms and own sockets."""
    rooms = tuple(presence.user_room_ids(str(user.id)))
    publish(UserUpdated("", user_id=str(user.id), user=wire.user(user), room_ids=rooms))


def set_avatar(actor: Actor, url: str | None) -> User:
    """Set (or, with None, clear) the actor's avatar URL; `user_updated` when it changed.
    (File sharing stores the image and calls this.)"""
    user = actor.user
    if (user.avatar_url or None) != url:
        update = {"set__avatar_url": url} if url else {"unset__avatar_url": True}
        User.objects(id=user.id).update_one(**update)
        user.reload()
        announce(user)
    return user
