"""Blocks: a user blocks another. The blocked user cannot open or write to a direct room
with the blocker; their mentions do not name the blocker (no notification), and their
typing and presence are not sent to the blocker's sockets (on any process:
`chat.live.publish` skips them, asking `blockers_of`)."""

from bson import ObjectId

from chat.errors import Forbidden, NotFound, ValidationError
from chat.models import Room, User
from chat.services.common import to_oid

MAX_BLOCKS = 1000


def block(actor: User, user_id: str) -> None:
    """Block a user (idempotent)."""
    target = _other(actor, user_id)
    if len(actor.blocked) >= MAX_BLOCKS and target.id not in actor.blocked:
        raise ValidationError(fields={"userId": [f"At most {MAX_BLOCKS} blocks."]})
    User.objects(id=actor.id).update_one(add_to_set__blocked=target.id)
    User.objects(id=target.id).update_one(add_to_set__blocked_by=actor.id)


def unblock(actor: User, user_id: str) -> None:
    target = _other(actor, user_id)
    User.objects(id=actor.id).update_one(pull__blocked=target.id)
    User.objects(id=target.id).update_one(pull__blocked_by=actor.id)


def blocked(actor: User) -> list[User]:
    actor.reload()
    return list(User.objects(id__in=actor.blocked).order_by("username_lower"))


def _other(actor: User, user_id: str) -> User:
    target = User.objects(id=to_oid(user_id, "User")).first()
    if target is None:
        raise NotFound("User not found.")
    if target.id == actor.id:
        raise ValidationError(fields={"userId": ["You cannot block yourself."]})
    return target


def blockers_of(user_id: str) -> set[str]:
    """Ids of the users who blocked `user_id` (read fresh: a block holds at once)."""
    doc = User._get_collection().find_one({"_id": ObjectId(user_id)}, {"blocked_by": 1})
    return {str(b) for b in (doc or {}).get("blocked_by", [])}


def check_direct(actor: User, room: Room) -> None:
    """A direct room is closed to a user its other member blocked."""
    if room.type != "direct":
        return
    blockers = blockers_of(str(actor.id))
    if any(str(p) in blockers for p in room.participants if p != actor.id):
        raise Forbidden("This user does not accept your messages.")
