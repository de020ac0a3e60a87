"""Accounts and sessions: registration, login with throttling, tokens, logout."""

import logging
import uuid
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from bson import ObjectId
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from itsdangerous import BadData, URLSafeTimedSerializer
from mongoengine.errors import NotUniqueError
from pymongo import ReturnDocument

from chat import asyncmode
from chat.errors import Conflict, RateLimited, Unauthorized
from chat.events import SessionRevoked, UserRegistered
from chat.live.publish import publish
from chat.models import LoginThrottle, RevokedSession, User
from chat.models.base import utcnow
from chat.services.common import KeyedReads

# argon2id, 19 MiB, 2 passes: OWASP's minimum recommendation.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = HASHER.hash("timing-equaliser-for-unknown-accounts")
BAD_LOGIN = "Invalid login or password."
MAX_DELAY = 900  # the longest any client waits between login attempts (no lockout)
DEVICE_DAYS = 90
security_log = logging.getLogger("chat.security")


def hash_password(password: str) -> str:
    """argon2id hash, computed off the event loop."""
    return asyncmode.run_blocking(HASHER.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def register_user(username: str, email: str, password: str) -> User:
    """Create an account.

    An email that belongs to another account is not revealed: the account is made all
    the same and answers the same, but the address stays unclaimed (shown to the
    account; never used to sign in, never sent anything).

    Raises:
        Conflict: the username (case-insensitively) is taken (usernames are public).
    """
    user = User(
        username=username,
        username_lower=username.lower(),
        email=email,
        password_hash=hash_password(password),
    )
    try:
        user.save(force_insert=True)
    except NotUniqueError as exc:
        if "email_unique" not in str(exc):
            raise _username_taken() from exc
        security_log.info("registration with a known email", extra={"event": "email_reused"})
        user.id, user.email, user.unclaimed_email = None, None, email
        try:
            user.save(force_insert=True)
        except NotUniqueError as again:
            raise _username_taken() from again
    publish(UserRegistered("", user_id=str(user.id), username=user.username))
    return user


def _username_taken() -> Conflict:
    return Conflict("That username is taken.", fields={"username": ["Taken."]})


def _lock_for(key: str) -> float:
    """Seconds until `key` may try again (0: it may)."""
    state = LoginThrottle._get_collection().find_one({"_id": key}, {"locked_until": 1})
    until = state and state.get("locked_until")
    if until is None:
        return 0.0
    return max(0.0, (until - utcnow()).total_seconds())  # the client is tz-aware


def _record_failure(key: str, allowed: int) -> None:
    """Count a failure; past `allowed`, a delay that doubles from LOGIN_LOCK_SECONDS
    up to 15 minutes (the record expires a day after the last failure)."""
    coll = LoginThrottle._get_collection()
    doc = coll.find_one_and_update(
        {"_id": key},
        {"$inc": {"failures": 1}, "$set": {"updated_at": utcnow()}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    over = doc["failures"] - allowed
    if over >= 0:
        seconds = min(current_app.config["LOGIN_LOCK_SECONDS"] * 2 ** min(over, 20), MAX_DELAY)
        coll.update_one(
            {"_id": key}, {"$set": {"locked_until": utcnow() + timedelta(seconds=seconds)}}
        )


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def device_token(user: User) -> str:
    """Proof that this client signed in as `user` before (OWASP's device cookie)."""
    return _devices().dumps({"u": str(user.id), "d": uuid.uuid4().hex})


def _device_of(token: str | None, user: User | None) -> str | None:
    """The device id in a valid device token of `user`, else None."""
    if not token or user is None:
        return None
    try:
        data = _devices().loads(token, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != str(user.id):
        return None
    return data.get("d") if isinstance(data.get("d"), str) else None


def _throttle_keys(account: str, remote: str | None, device: str | None) -> list[tuple]:
    """(key, failures allowed) that apply to this attempt.

    A client is slowed on its own: per account and address, and per account for
    clients that never signed in to it (any address). A device that signed in before
    is keyed on itself instead, so a flood from elsewhere never locks its owner out.
    """
    config = current_app.config
    keys = [(f"pair:{account}:{remote or '-'}", config["LOGIN_MAX_FAILURES"])]
    if device:
        keys.append((f"device:{device}", config["LOGIN_MAX_FAILURES"]))
    else:
        keys.append((f"account:{account}", config["LOGIN_ACCOUNT_MAX_FAILURES"]))
    return keys


def authenticate(
    password: str,
    username: str | None = None,
    email: str | None = None,
    remote: str | None = None,
    device_token: str | None = None,
) -> User:
    """Check a login; unknown accounts and wrong passwords fail identically.

    Args:
        remote: the client's address (after the trusted proxies).
        device_token: from an earlier login of this account on this client.
    Raises:
        RateLimited: too many recent failures for this account from this client.
        Unauthorized: unknown account or wrong password.
    """
    query = {"email": email} if email else {"username_lower": (username or "").lower()}
    user = User.objects(**query).first()
    account = str(user.id) if user else f"unknown:{email or (username or '').lower()}"
    keys = _throttle_keys(account, remote, _device_of(device_token, user))
    wait = max(_lock_for(key) for key, _ in keys)
    if wait:
        security_log.info("login throttled", extra={"event": "login_throttled", "login": account})
        raise RateLimited("Too many failed logins; try again later.", retry_after=int(wait) + 1)
    # Hash something even for unknown accounts so the timing does not tell.
    ok = asyncmode.run_blocking(_verify, user.password_hash if user else _DUMMY_HASH, password)
    if not (user and ok):
        for key, allowed in keys:
            _record_failure(key, allowed)
        security_log.info("login failed", extra={"event": "login_failed", "login": account})
        raise Unauthorized(BAD_LOGIN)
    LoginThrottle.objects(
        key__in=[key for key, _ in keys if not key.startswith("account:")]
    ).delete()
    return user


def issue_tokens(user: User) -> dict:
    """A new session: access and refresh tokens sharing one `sid`."""
    claims = {"sid": uuid.uuid4().hex}
    identity = str(user.id)
    return {
        "accessToken": create_access_token(identity, additional_claims=claims),
        "refreshToken": create_refresh_token(identity, additional_claims=claims),
    }


def refresh_access(user: User, claims: dict) -> str:
    """A fresh access token for the same session as the refresh token."""
    return create_access_token(str(user.id), additional_claims={"sid": claims["sid"]})


def logout(claims: dict) -> None:
    """Revoke the session: its access and refresh tokens stop working everywhere."""
    refresh_ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    RevokedSession.objects(sid=claims["sid"]).update_one(
        set__user=ObjectId(claims["sub"]),
        set__expires_at=utcnow() + timedelta(seconds=refresh_ttl),
        upsert=True,
    )
    publish(SessionRevoked(room_id="", user_id=claims["sub"], session=claims["sid"]))


def is_revoked(claims: dict) -> bool:
    """True when the token's session was logged out (or the token has no session)."""
    sid = claims.get("sid")
    if not isinstance(sid, str):
        return True
    return _revoked_reads.get(sid) is not None


def verify_access_token(token: str) -> tuple[User, dict]:
    """Check an access token outside a request (socket connections): signature,
    algorithm, expiry, type, revocation and that the user still exists.

    Raises:
        Unauthorized: for any of those failures.
    """
    try:
        claims = decode_token(token)
    except Exception:  # every decoding failure is the same refusal
        raise Unauthorized("Invalid token.") from None
    if claims.get("type") != "access" or "exp" not in claims or is_revoked(claims):
        raise Unauthorized("Invalid token.")
    user = load_user(claims)
    if user is None:
        raise Unauthorized("Unknown user.")
    return user, claims


def load_user(claims: dict) -> User | None:
    """The token's user, or None when it was deleted or the subject is not an id."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not ObjectId.is_valid(sub):
        return None
    doc = _user_reads.get(ObjectId(sub))
    return User._from_son(doc) if doc else None


# Every REST call and socket connect reads its session and its user: concurrent ones
# share a query (a reconnect storm is thousands at once).
_revoked_reads = KeyedReads(lambda: RevokedSession._get_collection(), {"_id": 1})
_user_reads = KeyedReads(lambda: User._get_collection())
