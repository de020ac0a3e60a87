"""API tokens: long-lived credentials for scripts, services and bots. A token is shown
once (`cht_<id>_<secret>`), stored as the secret's SHA-256, limited to scopes and
optionally to rooms, and revocable: its sockets close on every process.

A request or socket authenticated by a token acts through an `Actor` whose credential
holds the token's scopes and rooms; the policy (`services.policy`) checks them for every
action, as it checks everything else.
"""

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

from bson import ObjectId

from chat.actor import Actor, Credential
from chat.errors import NotFound, Unauthorized, ValidationError
from chat.events import SessionRevoked
from chat.live.publish import publish
from chat.models import ApiToken, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import auth, policy
from chat.store.combine import KeyedReads
from chat.store.documents import to_oid

security_log = logging.getLogger("chat.security")
PREFIX = "cht_"
MAX_TOKENS = 50  # per user or bot
USE_PRECISION = 60  # seconds: lastUsedAt is written at most this often
SHAPE = re.compile(r"cht_([0-9a-f]{24})_([A-Za-z0-9_-]{20,100})")


def create_token(
    actor: Actor,
    name: str,
    scopes: list[str],
    room_ids: list[str] | None = None,
    expires_in: int | None = None,
    subject: User | None = None,
) -> dict:
    """A new token acting as `subject` (default: the actor; a bot of theirs otherwise).

    Returns:
        The token's view plus `token`, the only time the secret is shown.
    Raises:
        InsufficientScope: a token may not make tokens.
        ValidationError: unknown rooms, or too many tokens.
    """
    policy.authorize(actor, "manage_bots" if subject else "manage_tokens")
    subject = subject or actor.user
    if ApiToken.objects(user=subject.id).count() >= MAX_TOKENS:
        raise ValidationError(fields={"name": [f"At most {MAX_TOKENS} tokens."]})
    rooms = None if room_ids is None else [_visible_room(subject, r) for r in room_ids]
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=subject.id,
        owner=actor.id,
        name=name,
        scopes=sorted(set(scopes)),
        rooms=rooms,
        digest=_digest(secret),
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
    )
    token.save(force_insert=True)
    return {**view(token), "token": f"{PREFIX}{token.id}_{secret}"}


def _visible_room(subject: User, room_id: str) -> ObjectId:
    """A room the token's user may see (public, or theirs), or a ValidationError."""
    unknown = ValidationError(fields={"roomIds": [f"Unknown room {room_id}."]})
    try:
        oid = to_oid(room_id, "Room")
    except NotFound:
        raise unknown from None
    room = Room._get_collection().find_one({"_id": oid}, {"type": 1, "participants": 1})
    if room is None or (room["type"] != "public" and subject.id not in room["participants"]):
        raise unknown
    return oid


def view(token: ApiToken) -> dict:
    """A token as listed (never its secret)."""
    return {
        "id": str(token.id),
        "name": token.name,
        "userId": str(token.user),
        "scopes": list(token.scopes),
        "roomIds": None if token.rooms is None else [str(r) for r in token.rooms],
        "createdAt": isoformat(token.created_at),
        "expiresAt": isoformat(token.expires_at),
        "lastUsedAt": isoformat(token.last_used_at),
    }


def list_tokens(actor: Actor, subject: User | None = None) -> list[dict]:
    """The tokens acting as `subject` (default: the actor), newest first."""
    policy.authorize(actor, "manage_bots" if subject else "manage_tokens")
    found = ApiToken.objects(user=(subject or actor).id).order_by("-id")
    return [view(t) for t in found]


def revoke_token(actor: Actor, token_id: str, subject: User | None = None) -> None:
    """Delete a token of the actor (or of their bot `subject`); its sockets close on
    every process. Raises NotFound for anyone else's."""
    policy.authorize(actor, "manage_bots" if subject else "manage_tokens")
    token = ApiToken.objects(id=to_oid(token_id, "Token"), user=(subject or actor).id).first()
    if token is None:
        raise NotFound("Token not found.")
    revoke([token])


def revoke(tokens: list[ApiToken]) -> None:
    """Delete tokens and close their sockets on every process."""
    for token in tokens:
        ApiToken.objects(id=token.id).delete()
        publish(SessionRevoked(room_id="", user_id=str(token.user), session=f"tok:{token.id}"))


def authenticate(raw: str) -> tuple[Actor, float]:
    """The actor a token stands for (its user, with the token's scopes and rooms) and
    the token's expiry (epoch seconds, inf for none).

    Raises:
        Unauthorized: malformed, unknown, revoked or expired; its user is gone or
            deactivated, or it is a bot whose owner is.
    """
    match = SHAPE.fullmatch(raw)
    doc = _token_reads.get(ObjectId(match.group(1))) if match else None
    if match is None or doc is None or not hmac.compare_digest(doc["digest"], _digest(match[2])):
        security_log.info("token refused", extra={"event": "auth_refused", "reason": "api token"})
        raise Unauthorized("Invalid token.")
    now = utcnow()
    expires = doc.get("expires_at")
    if expires is not None and expires.replace(tzinfo=now.tzinfo) <= now:
        raise Unauthorized("Token has expired.")
    user = auth.load_user({"sub": str(doc["user"])})
    if user is None or (user.bot and not _owner_active(user)):
        raise Unauthorized("Unknown user.")
    used = doc.get("last_used_at")
    if used is None or used.replace(tzinfo=now.tzinfo) < now - timedelta(seconds=USE_PRECISION):
        ApiToken._get_collection().update_one({"_id": doc["_id"]}, {"$set": {"last_used_at": now}})
    rooms = doc.get("rooms")
    credential = Credential(
        "token",
        str(doc["_id"]),
        frozenset(doc["scopes"]),
        None if rooms is None else frozenset(rooms),
    )
    ends = expires.replace(tzinfo=now.tzinfo).timestamp() if expires else float("inf")
    return Actor(user, credential), ends


def _owner_active(bot: User) -> bool:
    """A bot acts for its owner: it stops when they are deactivated (the cascade ends
    its tokens too; this holds even if that was interrupted). A webhook's bot has no
    owner and no tokens."""
    return bot.bot_owner is not None and auth.load_user({"sub": str(bot.bot_owner)}) is not None


def sessions_outside(user_id: str, room_id: str) -> set[str]:
    """The socket sessions (`tok:<id>`) of the user's tokens limited to other rooms:
    they do not follow the user into `room_id` (`chat.live.publish` asks)."""
    found = ApiToken._get_collection().find(
        {"user": ObjectId(user_id), "rooms": {"$ne": None, "$nin": [ObjectId(room_id)]}},
        {"_id": 1},
    )
    return {f"tok:{t['_id']}" for t in found}


def revoke_all_of(user_id: ObjectId) -> None:
    """Every token acting as the user (deactivation, a deleted bot)."""
    revoke(list(ApiToken.objects(user=user_id)))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Every request with a token reads it: concurrent ones share a query (nothing is kept
# between requests, so a revoked token is refused by the next one).
_token_reads = KeyedReads(lambda: ApiToken._get_collection())
