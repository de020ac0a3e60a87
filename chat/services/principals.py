"""Ending principals: the one path that ends a session, a token, a bot, a webhook or an
account, with what hangs from each. Whatever ends, its sockets close at the transport
on every process (`SessionRevoked`, acted on by `chat.live.publish`).

Cascades:
- an account: its sessions, its tokens, the bots it owns (and their tokens), the
  integrations it made in rooms and its invite links;
- a bot: its tokens; a webhook: its bot (a webhook's bot has no owner, so no person
  can mint tokens for it);
- a room's power: when someone stops being an admin of a room (demoted, kicked,
  banned, left, deactivated), the incoming webhooks and outgoing subscriptions they
  made there end with it, audited: their secret URL or their receiver may be theirs;
  their invite links stop leading there (one to that room alone ends).
"""

import logging

from bson import ObjectId

from chat.actor import Actor
from chat.models import Delivery, IncomingWebhook, Invite, Subscription, User
from chat.services import audit, auth, policy, tokens, users

security_log = logging.getLogger("chat.security")


def end_bot(bot: User) -> None:
    """Deactivate a bot: its tokens stop and its sockets close; its messages stay."""
    User.objects(id=bot.id).update_one(set__deactivated=True)
    tokens.revoke_all_of(bot.id)
    bot.deactivated = True
    users.announce(bot)


def end_webhook(hook: IncomingWebhook) -> None:
    """Remove an incoming webhook: its URL stops working and its bot ends."""
    hook.delete()
    bot = User.objects(id=hook.bot).first()
    if bot is not None:
        end_bot(bot)


def end_room_powers(room_id: ObjectId, user_id: ObjectId, why: str) -> int:
    """End the integrations and invites `user_id` made for the room (they are no longer
    its admin).

    Returns:
        how many ended.
    """
    ended = 0
    for hook in IncomingWebhook.objects(room=room_id, created_by=user_id):
        end_webhook(hook)
        audit.record(None, "webhook.end", hook.id, room=room_id, creator=str(user_id), why=why)
        ended += 1
    for sub in Subscription.objects(room=room_id, created_by=user_id):
        end_subscription(sub)
        audit.record(None, "subscription.end", sub.id, room=room_id, creator=str(user_id), why=why)
        ended += 1
    made = {"created_by": user_id, "rooms": room_id}
    ended += Invite.objects(__raw__={**made, "rooms": [room_id]}).delete()
    return ended + Invite.objects(__raw__=made).update(pull__rooms=room_id)


def end_subscription(sub: Subscription) -> None:
    """End an outgoing subscription: it and its deliveries not yet made are gone (a
    delivery already claimed finds it gone and is dropped)."""
    sub.delete()
    Delivery.objects(subscription=sub.id).delete()


def reset_password(token: str, password: str) -> None:
    """Account recovery: a reset token sets a new password, and everything an attacker
    who had the old one may hold ends: every session, every API token of the person
    and every token of their bots (the bots stay; their owner mints new tokens)."""
    user = auth.confirm_password_reset(token, password)
    tokens.revoke_all_of(user.id)
    for bot in User.objects(bot_owner=user.id).only("id"):
        tokens.revoke_all_of(bot.id)


def deactivate_self(actor: Actor, password: str, remote: str | None) -> None:
    """A person ends their own account, after their password (throttled as logins)."""
    policy.authorize(actor, "deactivate_self")
    auth.check_password(actor.user, password, remote, "password")
    end_account(actor.user, "deactivated")


def end_account(user: User, why: str) -> None:
    """Deactivate an account with everything that acts for it."""
    User.objects(id=user.id).update_one(set__deactivated=True, unset__status=True)
    auth.revoke_all(user.id)
    tokens.revoke_all_of(user.id)
    for bot in User.objects(bot_owner=user.id, deactivated=False):
        end_bot(bot)
    rooms = {h.room for h in IncomingWebhook.objects(created_by=user.id).only("room")}
    rooms |= {s.room for s in Subscription.objects(created_by=user.id).only("room") if s.room}
    for room_id in rooms:
        end_room_powers(room_id, user.id, why)
    Invite.objects(created_by=user.id).delete()
    security_log.info("account deactivated", extra={"event": "deactivated", "login": str(user.id)})
    user.reload()
    users.announce(user)
