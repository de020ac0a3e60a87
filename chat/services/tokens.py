"""API tokens: long-lived credentials for scripts, services and bots. A token is shown
once (`cht_<id>_<secret>`), stored as the secret's SHA-256, limited to scopes and
optionally to rooms, and revocable: its sockets close on every process.

A request or socket authenticated by a token carries a `Grant` on its actor
(`actor.grant`); a signed-in session's actor has none and may do everything its user
may. Scopes are checked where a route or socket event names the one it needs; rooms are
checked where every room is reached (`rooms.get_room`) and where rooms are listed.
"""

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bson import ObjectId

from chat.errors import Forbidden, InsufficientScope, NotFound, Unauthorized, ValidationError
from chat.events import SessionRevoked
from chat.live.publish import publish
from chat.models import ApiToken, User
from chat.models.base import isoformat, utcnow
from chat.services import auth
from chat.services.common import KeyedReads, to_oid

security_log = logging.getLogger("chat.security")
PREFIX = "cht_"
MAX_TOKENS = 50  # per user or bot
USE_PRECISION = 60  # seconds: lastUsedAt is written at most this often
SHAPE = re.compile(r"cht_([0-9a-f]{24})_([A-Za-z0-9_-]{20,100})")


@dataclass(frozen=True)
class Grant:
    """What a token allows: its id (its sockets' session is `tok:<id>`), scopes, rooms."""

    token: str
    scopes: frozenset[str]
    rooms: frozenset[ObjectId] | None  # None: every room its user may use

    @property
    def session(self) -> str:
        return f"tok:{self.token}"


def grant_of(actor: User) -> Grant | None:
    return getattr(actor, "grant", None)


def require_scope(actor: User, scope: str | None) -> None:
    """Raises InsufficientScope when the actor's token lacks `scope` (None: a route or
    event no token may use). Signed-in sessions pass."""
    grant = grant_of(actor)
    if grant is not None and (scope is None or scope not in grant.scopes):
        needed = f"the {scope} scope" if scope else "a signed-in session"
        raise InsufficientScope(f"This token may not do that: it needs {needed}.")


def require_session(actor: User) -> None:
    """Raises InsufficientScope for tokens (what only a signed-in person may do)."""
    require_scope(actor, None)


def require_room(actor: User, room_id: ObjectId) -> None:
    """Raises InsufficientScope when the actor's token is limited to other rooms."""
    if not may_use(actor, room_id):
        raise InsufficientScope("This token may not use that room.")


def require_any_room(actor: User) -> None:
    """Raises InsufficientScope for a token limited to rooms (it cannot make new ones)."""
    grant = grant_of(actor)
    if grant is not None and grant.rooms is not None:
        raise InsufficientScope("This token is limited to its rooms.")


def may_use(actor: User, room_id: ObjectId) -> bool:
    """False when the actor's token is limited to other rooms."""
    grant = grant_of(actor)
    return grant is None or grant.rooms is None or room_id in grant.rooms


def create_token(
    actor: User,
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
    require_session(actor)
    subject = subject or actor
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
    from chat.services.rooms import get_room  # rooms checks tokens: imported late

    try:
        return get_room(subject, room_id).id
    except NotFound:
        raise ValidationError(fields={"roomIds": [f"Unknown room {room_id}."]}) from None


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


def list_tokens(actor: User, subject: User | None = None) -> list[dict]:
    """The tokens acting as `subject` (default: the actor), newest first."""
    require_session(actor)
    found = ApiToken.objects(user=(subject or actor).id).order_by("-id")
    return [view(t) for t in found]


def revoke_token(actor: User, token_id: str, subject: User | None = None) -> None:
    """Delete a token of the actor (or of their bot `subject`); its sockets close on
    every process. Raises NotFound for anyone else's."""
    require_session(actor)
    token = ApiToken.objects(id=to_oid(token_id, "Token"), user=(subject or actor).id).first()
    if token is None:
        raise NotFound("Token not found.")
    revoke([token])


def revoke(tokens: list[ApiToken]) -> None:
    """Delete tokens and close their sockets on every process."""
    for token in tokens:
        ApiToken.objects(id=token.id).delete()
        publish(SessionRevoked(room_id="", user_id=str(token.user), session=f"tok:{token.id}"))


def authenticate(raw: str) -> tuple[User, Grant, float]:
    """The user a token acts as, with its grant and its expiry (epoch seconds, inf for
    none).

    Raises:
        Unauthorized: malformed, unknown, revoked or expired, or its user is gone.
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
    if user is None:
        raise Unauthorized("Unknown user.")
    used = doc.get("last_used_at")
    if used is None or used.replace(tzinfo=now.tzinfo) < now - timedelta(seconds=USE_PRECISION):
        ApiToken._get_collection().update_one({"_id": doc["_id"]}, {"$set": {"last_used_at": now}})
    rooms = doc.get("rooms")
    grant = Grant(
        str(doc["_id"]), frozenset(doc["scopes"]), None if rooms is None else frozenset(rooms)
    )
    user.grant = grant
    ends = expires.replace(tzinfo=now.tzinfo).timestamp() if expires else float("inf")
    return user, grant, ends


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


def check_owner(actor: User, bot: User) -> None:
    """Raises Forbidden unless the actor owns the bot."""
    if not bot.bot or bot.bot_owner != actor.id:
        raise Forbidden("Not your bot.")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Every request with a token reads it: concurrent ones share a query (nothing is kept
# between requests, so a revoked token is refused by the next one).
_token_reads = KeyedReads(lambda: ApiToken._get_collection())
