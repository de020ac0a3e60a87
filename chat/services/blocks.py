"""Blocks: a user blocks another. What a block stops is the policy's to decide
(services/policy): every contact of the blocked user with the blocker (a direct room
and all that is done in it, reactions to the blocker's messages, invites), every
delivery to the blocker they cause (mentions, replies' notifications, push, email),
and their typing, presence and profile updates on the blocker's sockets (on any
process: `chat.live.publish` skips them, asking `blockers_of`)."""

from chat.actor import Actor
from chat.errors import NotFound, ValidationError
from chat.models import User
from chat.services import policy
from chat.store.documents import to_oid

MAX_BLOCKS = 1000


def block(actor: Actor, user_id: str) -> None:
    """Block a user (idempotent)."""
    policy.authorize(actor, "block_user")
    target = _other(actor, user_id)
    if len(actor.user.blocked) >= MAX_BLOCKS and target.id not in actor.user.blocked:
        raise ValidationError(fields={"userId": [f"At most {MAX_BLOCKS} blocks."]})
    User.objects(id=actor.id).update_one(add_to_set__blocked=target.id)
    User.objects(id=target.id).update_one(add_to_set__blocked_by=actor.id)


def unblock(actor: Actor, user_id: str) -> None:
    policy.authorize(actor, "block_user")
    target = _other(actor, user_id)
    User.objects(id=actor.id).update_one(pull__blocked=target.id)
    User.objects(id=target.id).update_one(pull__blocked_by=actor.id)


def blocked(actor: Actor) -> list[User]:
    policy.authorize(actor, "block_user")
    mine = User.objects(id=actor.id).only("blocked").first()
    return list(User.objects(id__in=mine.blocked if mine else []).order_by("username_lower"))


def _other(actor: Actor, user_id: str) -> User:
    target = User.objects(id=to_oid(user_id, "User")).first()
    if target is None:
        raise NotFound("User not found.")
    if target.id == actor.id:
        raise ValidationError(fields={"userId": ["You cannot block yourself."]})
    return target


def blockers_of(user_id: str) -> set[str]:
    """Ids of the users who blocked `user_id` (read fresh: a block holds at once)."""
    return {str(b) for b in policy.blockers_of(user_id)}
