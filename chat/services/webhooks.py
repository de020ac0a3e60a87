"""Incoming webhooks: a room's admins make one; anything that can send an HTTP POST
(CI, monitoring, a Slack-style sender) then posts in the room through its secret URL,
as the webhook's own bot. Retried deliveries with the same `Idempotency-Key` post once.
"""

import hashlib
import hmac
import math
import secrets

from bson import ObjectId

from chat.actor import Actor, Credential
from chat.errors import NotFound, RateLimited, ValidationError
from chat.live import limits
from chat.models import IncomingWebhook, User
from chat.models.base import isoformat
from chat.services import messages, policy, principals
from chat.services.rooms import add_member, get_room
from chat.store.documents import find_document, to_oid

MAX_PER_ROOM = 20
RATE, BURST = 1.0, 30  # posts a second per webhook, and the burst
KEY = "hook"  # clientId prefix: an Idempotency-Key never meets a client's own clientId


def create_webhook(actor: Actor, room_id: str, name: str) -> tuple[IncomingWebhook, str]:
    """A webhook of the room (its admins; people only) and the secret of its URL,
    shown once. Its bot (`bot: true`) is added to the room. The bot has no owner: no
    person mints tokens for it or acts as it, and the webhook ends when its creator
    stops being an admin of the room (services/principals).

    Raises:
        InsufficientScope / NotFound / Forbidden; ValidationError: too many.
    """
    room = get_room(actor, room_id)
    policy.authorize(actor, "manage_webhooks", room=room)
    if IncomingWebhook.objects(room=room.id).count() >= MAX_PER_ROOM:
        raise ValidationError(fields={"name": [f"At most {MAX_PER_ROOM} webhooks a room."]})
    bot = User(
        username=f"hook-{secrets.token_hex(6)}",
        display_name=name,
        display_name_lower=name.lower(),
        password_hash="!",
        bot=True,
    )
    bot.username_lower = bot.username
    bot.save(force_insert=True)
    add_member(room, bot)
    secret = secrets.token_urlsafe(32)
    hook = IncomingWebhook(
        room=room.id, name=name, bot=bot.id, digest=_digest(secret), created_by=actor.id
    )
    hook.save(force_insert=True)
    return hook, secret


def list_webhooks(actor: Actor, room_id: str) -> list[dict]:
    """The room's webhooks (its admins), without their secrets, with their creators."""
    room = get_room(actor, room_id)
    policy.authorize(actor, "manage_webhooks", room=room)
    return [view(h) for h in IncomingWebhook.objects(room=room.id).order_by("id")]


def delete_webhook(actor: Actor, room_id: str, hook_id: str) -> None:
    """Remove a webhook (its room's admins): its URL stops working, its bot ends (any
    token and socket of it too), its messages stay."""
    room = get_room(actor, room_id)
    policy.authorize(actor, "manage_webhooks", room=room)
    hook = IncomingWebhook.objects(id=to_oid(hook_id, "Webhook"), room=room.id).first()
    if hook is None:
        raise NotFound("Webhook not found.")
    principals.end_webhook(hook)


def view(hook: IncomingWebhook) -> dict:
    return {
        "id": str(hook.id),
        "name": hook.name,
        "roomId": str(hook.room),
        "botId": str(hook.bot),
        "createdAt": isoformat(hook.created_at),
        "createdBy": str(hook.created_by),
    }


def deliver(hook_id: str, secret: str, text: str, username: str | None, key: str | None):
    """Post a delivery in the webhook's room as its bot.

    Args:
        username: shown instead of the webhook's name (Slack's `username`).
        key: the delivery's Idempotency-Key: a retry posts nothing new.
    Returns:
        messages.Posted.
    Raises:
        NotFound: unknown webhook or wrong secret (the same answer);
        RateLimited: more than BURST at once, RATE a second after.
    """
    hook = find_document(IncomingWebhook, {"_id": _oid(hook_id)})
    if hook is None or not hmac.compare_digest(hook.digest, _digest(secret)):
        raise NotFound("Webhook not found.")
    wait = limits.take((f"hook:{hook.id}", RATE, BURST))
    if wait:
        raise RateLimited("Too many deliveries; retry later.", retry_after=math.ceil(wait))
    bot = User.objects(id=hook.bot, deactivated=False).first()
    if bot is None:
        raise NotFound("Webhook not found.")
    if username and _someones_name(username):
        raise ValidationError(fields={"username": ["That is someone's name."]})
    data = {"username": username} if username else None
    client_id = f"{KEY}:{key}" if key else None
    scopes = frozenset({"messages:write"})
    actor = Actor(bot, Credential("webhook", str(hook.id), scopes, frozenset({hook.room})))
    return messages.post_message(actor, str(hook.room), text, client_id=client_id, data=data)


def _someones_name(name: str) -> bool:
    """A webhook may not post under a person's username or display name."""
    low = name.strip().lower()
    query = {"bot": {"$ne": True}, "$or": [{"username_lower": low}, {"display_name_lower": low}]}
    return User._get_collection().find_one(query, {"_id": 1}) is not None


def _oid(value: str) -> ObjectId | None:
    try:
        return to_oid(value)
    except NotFound:
        return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
