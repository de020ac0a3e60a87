"""Accounts and sessions: registration, login with throttling, tokens, logout."""

import logging
import uuid
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from bson import ObjectId
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from mongoengine.errors import NotUniqueError
from pymongo import ReturnDocument

from chat import asyncmode, realtime
from chat.errors import Conflict, RateLimited, Unauthorized
from chat.events import SessionRevoked
from chat.models import LoginThrottle, RevokedSession, User
from chat.models.base import utcnow
from chat.services.common import find_document

# argon2id, 19 MiB, 2 passes: OWASP's minimum recommendation.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = HASHER.hash("timing-equaliser-for-unknown-accounts")
BAD_LOGIN = "Invalid login or password."
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

    Raises:
        Conflict: the username (case-insensitively) or the email is taken.
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
        field = "email" if "email_unique" in str(exc) else "username"
        raise Conflict(f"That {field} is taken.", fields={field: ["Already taken."]}) from exc
    return user


def _throttle_key(username: str | None, email: str | None) -> str:
    return f"email:{email}" if email else f"username:{username.lower()}"


def _check_throttle(key: str) -> None:
    state = LoginThrottle.objects(key=key).first()
    if state and state.locked_until and state.locked_until > utcnow():
        wait = (state.locked_until - utcnow()).total_seconds()
        security_log.info("login throttled", extra={"event": "login_throttled", "login": key})
        raise RateLimited("Too many failed logins; try again later.", retry_after=int(wait) + 1)


def _record_failure(key: str) -> None:
    coll = LoginThrottle._get_collection()
    doc = coll.find_one_and_update(
        {"_id": key},
        {"$inc": {"failures": 1}, "$set": {"updated_at": utcnow()}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    over = doc["failures"] - current_app.config["LOGIN_MAX_FAILURES"]
    if over >= 0:
        seconds = min(current_app.config["LOGIN_LOCK_SECONDS"] * 2**over, 900)
        coll.update_one(
            {"_id": key}, {"$set": {"locked_until": utcnow() + timedelta(seconds=seconds)}}
        )


def authenticate(password: str, username: str | None = None, email: str | None = None) -> User:
    """Check a login; unknown accounts and wrong passwords fail identically.

    Raises:
        RateLimited: too many recent failures for this login name.
        Unauthorized: unknown account or wrong password.
    """
    key = _throttle_key(username, email)
    _check_throttle(key)
    query = {"email": email} if email else {"username_lower": username.lower()}
    user = User.objects(**query).first()
    # Hash something even for unknown accounts so the timing does not tell.
    ok = asyncmode.run_blocking(_verify, user.password_hash if user else _DUMMY_HASH, password)
    if not (user and ok):
        _record_failure(key)
        security_log.info("login failed", extra={"event": "login_failed", "login": key})
        raise Unauthorized(BAD_LOGIN)
    LoginThrottle.objects(key=key).delete()
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
    realtime.publish(SessionRevoked(room_id="", user_id=claims["sub"], session=claims["sid"]))


def is_revoked(claims: dict) -> bool:
    """True when the token's session was logged out (or the token has no session)."""
    sid = claims.get("sid")
    if not isinstance(sid, str):
        return True
    return RevokedSession._get_collection().find_one({"_id": sid}, {"_id": 1}) is not None


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
    return find_document(User, {"_id": ObjectId(sub)})
