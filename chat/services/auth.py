"""Accounts and sessions: registration, login with throttling, tokens, logout."""

import hashlib
import logging
import secrets
import time
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
from pymongo.errors import DuplicateKeyError

from chat import asyncmode, mail
from chat.actor import Actor
from chat.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationError,
)
from chat.events import SessionRevoked, UserRegistered
from chat.live.publish import publish
from chat.models import LoginThrottle, PasswordReset, Session, User
from chat.models.base import isoformat, utcnow
from chat.store.combine import KeyedReads

# argon2id, 19 MiB, 2 passes: OWASP's minimum recommendation.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = HASHER.hash("timing-equaliser-for-unknown-accounts")
BAD_LOGIN = "Invalid login or password."
MAX_DELAY = 900  # the longest any client waits between login attempts (no lockout)
UPSERT_TRIES = 5  # a throttle record made by two failures at once: tries of the upsert
DEVICE_DAYS = 90
USE_PRECISION = 60  # seconds: a session's lastUsedAt is written at most this often
RESET_EVERY = 60  # seconds between reset emails to one account
security_log = logging.getLogger("chat.security")
log = logging.getLogger(__name__)


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
    account; never sent anything; it signs in with its own password only, after the
    address's owner: services/auth._accounts).

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
    count = {"$inc": {"failures": 1}, "$set": {"updated_at": utcnow()}}
    doc = None
    for _ in range(UPSERT_TRIES):  # another failure may make the record at the same
        try:  # moment: the upsert is tried again (it finds that record, once visible)
            doc = coll.find_one_and_update(
                {"_id": key}, count, upsert=True, return_document=ReturnDocument.AFTER
            )
            break
        except DuplicateKeyError:
            time.sleep(0.01)
    if doc is None:
        raise RateLimited("Too many failed logins; try again later.", retry_after=1)
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
    is keyed on itself alone, so neither a flood from elsewhere nor a neighbour behind
    the same address (a NAT) locks its owner out.
    """
    config = current_app.config
    if device:
        return [(f"device:{device}", config["LOGIN_MAX_FAILURES"])]
    return [
        (f"pair:{account}:{remote or '-'}", config["LOGIN_MAX_FAILURES"]),
        (f"account:{account}", config["LOGIN_ACCOUNT_MAX_FAILURES"]),
    ]


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
    candidates = _accounts(email, username)
    user = next((u for u in candidates if u.email or not email), None)  # whose it is
    account = str(user.id) if user else f"unknown:{email or (username or '').lower()}"
    keys = _throttle_keys(account, remote, _device_of(device_token, user))
    wait = max(_lock_for(key) for key, _ in keys)
    if wait:
        security_log.info("login throttled", extra={"event": "login_throttled", "login": account})
        raise RateLimited("Too many failed logins; try again later.", retry_after=int(wait) + 1)
    user = _matching(candidates, password, 2 if email else 1)
    if user is None:
        for key, allowed in keys:
            _record_failure(key, allowed)
        security_log.info("login failed", extra={"event": "login_failed", "login": account})
        raise Unauthorized(BAD_LOGIN)
    LoginThrottle.objects(
        key__in=[key for key, _ in keys if not key.startswith("account:")]
    ).delete()
    if user.deactivated:
        raise Forbidden("This account was deactivated.")
    return user


def _accounts(email: str | None, username: str | None) -> list[User]:
    """Who a login may be: by username, that account; by email, its owner first, then
    an account that gave the address when it was already taken (`unclaimed_email`,
    which signs in with its own password), so that signing in tells no more than
    registering did whether it was taken."""
    if not email:
        return list(User.objects(username_lower=(username or "").lower()).limit(1))
    found = User.objects(__raw__={"$or": [{"email": email}, {"unclaimed_email": email}]})
    return sorted(found.order_by("id").limit(2), key=lambda u: u.email is None)


def _matching(candidates: list[User], password: str, tries: int) -> User | None:
    """The first candidate whose password this is. Every login costs `tries` hashes
    whoever matches (unknown accounts too), so the timing does not tell how many
    accounts there were."""
    checked = candidates[:tries]
    found = [asyncmode.run_blocking(_verify, u.password_hash, password) for u in checked]
    for _ in range(tries - len(checked)):
        asyncmode.run_blocking(_verify, _DUMMY_HASH, password)
    return next((u for u, ok in zip(checked, found, strict=True) if ok), None)


def issue_tokens(user: User, device: str = "") -> dict:
    """A new session: its document, and access and refresh tokens sharing its `sid`."""
    shown = "".join(c for c in device[:400] if c.isprintable())[:200]  # a bounded label
    session = Session(sid=uuid.uuid4().hex, user=user.id, device=shown)
    tokens = _tokens(user, session)
    session.save(force_insert=True)
    return tokens


def _tokens(user: User, session: Session) -> dict:
    """New access and refresh tokens of `session`; the session (not saved) now expects
    the new refresh token, and lives as long as it."""
    claims, identity = {"sid": session.sid}, str(user.id)
    refresh = create_refresh_token(identity, additional_claims=claims)
    session.refresh_jti = decode_token(refresh)["jti"]
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    session.expires_at = utcnow() + timedelta(seconds=ttl)
    access = create_access_token(identity, additional_claims=claims)
    return {"accessToken": access, "refreshToken": refresh}


def refresh(user: User, claims: dict) -> dict:
    """Rotate: new access and refresh tokens for the session of a refresh token, which
    is spent. A spent refresh token presented again (stolen, or replayed) ends the
    session: reuse detection.

    Raises:
        Unauthorized: the session is gone, or the token was already used.
    """
    session = Session(sid=claims["sid"], user=user.id)
    tokens = _tokens(user, session)
    rotated = Session._get_collection().update_one(
        {"_id": claims["sid"], "user": user.id, "refresh_jti": claims["jti"]},
        {
            "$set": {
                "refresh_jti": session.refresh_jti,
                "expires_at": session.expires_at,
                "last_used_at": utcnow(),
            }
        },
    )
    if not rotated.matched_count:
        security_log.warning(
            "refresh token reused: session revoked",
            extra={"event": "refresh_reuse", "login": claims["sub"]},
        )
        revoke(user.id, [claims["sid"]])
        raise Unauthorized("This refresh token was already used; sign in again.")
    return tokens


def revoke(user_id: ObjectId, sids: list[str]) -> None:
    """End sessions of a user: their tokens stop working and their sockets close on
    every process."""
    if not sids:
        return
    Session._get_collection().delete_many({"_id": {"$in": sids}, "user": user_id})
    for sid in sids:
        publish(SessionRevoked(room_id="", user_id=str(user_id), session=sid))


def revoke_all(user_id: ObjectId, keep: str | None = None) -> None:
    """End every session of a user but `keep`."""
    found = Session._get_collection().find({"user": user_id}, {"_id": 1})
    revoke(user_id, [s["_id"] for s in found if s["_id"] != keep])


def logout(claims: dict) -> None:
    """Revoke the session: its access and refresh tokens stop working everywhere."""
    revoke(ObjectId(claims["sub"]), [claims["sid"]])


def sessions(actor: Actor, current: str) -> list[dict]:
    """The actor's sessions, the most recently used first."""
    found = Session.objects(user=actor.id).order_by("-last_used_at")
    return [
        {
            "id": s.sid,
            "device": s.device,
            "createdAt": isoformat(s.created_at),
            "lastUsedAt": isoformat(s.last_used_at),
            "current": s.sid == current,
        }
        for s in found
    ]


def revoke_session(actor: Actor, sid: str) -> None:
    """End one of the actor's sessions (404 for any other)."""
    if not Session.objects(sid=sid, user=actor.id).first():
        raise NotFound("No such session.")
    revoke(actor.id, [sid])


def check_password(user: User, password: str, remote: str | None, field: str) -> None:
    """Check the signed-in person's password before what needs it (a new password,
    deactivation); failures count as failed logins from this address, and wait alike.

    Raises:
        RateLimited: too many wrong passwords lately. ValidationError: a wrong one.
    """
    keys = _throttle_keys(str(user.id), remote, None)[:1]
    wait = _lock_for(keys[0][0])
    if wait:
        raise RateLimited("Too many wrong passwords; try again later.", retry_after=int(wait) + 1)
    if not asyncmode.run_blocking(_verify, user.password_hash, password):
        _record_failure(*keys[0])
        raise ValidationError(fields={field: ["Wrong password."]})


def change_password(actor: Actor, claims: dict, current: str, new: str, remote: str | None):
    """Set a new password after checking the current one (failures count as failed
    logins); every other session ends."""
    check_password(actor.user, current, remote, "currentPassword")
    _set_password(actor.user, new)
    revoke_all(actor.id, keep=claims["sid"])
    security_log.info(
        "password changed", extra={"event": "password_changed", "login": str(actor.id)}
    )


def _set_password(user: User, password: str) -> None:
    User.objects(id=user.id).update_one(set__password_hash=hash_password(password))


def request_password_reset(email: str) -> None:
    """Email a single-use reset token to the account with this verified address, if
    there is one (the caller learns nothing either way; at most one email a minute per
    account)."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        log.error("a password reset was asked for, but SMTP_HOST is unset: no email sent")
        return
    user = User.objects(email=email, deactivated=False).first()
    if user is None or not user.email_verified:  # (an unproven address gets nothing)
        return
    if not first_in_a_while(f"reset:{user.id}", RESET_EVERY):
        return
    token = secrets.token_urlsafe(32)
    minutes = config["PASSWORD_RESET_MINUTES"]
    expires = utcnow() + timedelta(minutes=minutes)
    PasswordReset(digest=digest(token), user=user.id, expires_at=expires).save(force_insert=True)
    link = (
        config["PASSWORD_RESET_URL"].replace("{token}", token)
        if config["PASSWORD_RESET_URL"]
        else ""
    )
    text = (
        f"Someone asked to reset the password of {user.username}.\n\n"
        + (f"Open {link}\n" if link else f"Your reset token: {token}\n")
        + f"\nIt works once, for {minutes} minutes. If it was not you, ignore this email.\n"
    )
    mail.send_later(config, user.email, "Reset your password", text)
    security_log.info(
        "password reset sent", extra={"event": "password_reset", "login": str(user.id)}
    )


def first_in_a_while(key: str, seconds: int) -> bool:
    """True for the first caller with `key` in `seconds` (atomic: of two at once, one)."""
    now = utcnow()
    try:
        LoginThrottle._get_collection().update_one(
            {"_id": key, "locked_until": {"$lte": now}},
            {"$set": {"locked_until": now + timedelta(seconds=seconds), "updated_at": now}},
            upsert=True,
        )
    except DuplicateKeyError:  # the key is there and still locked
        return False
    return True


def confirm_password_reset(token: str, password: str) -> User:
    """Spend a reset token: the new password is set and every session ends (the
    caller, services/principals, ends the rest an attacker may hold).

    Raises:
        ValidationError: unknown, used or expired token.
    """
    reset = PasswordReset._get_collection().find_one_and_delete(
        {"_id": digest(token), "expires_at": {"$gt": utcnow()}}
    )
    user = User.objects(id=reset["user"], deactivated=False).first() if reset else None
    if user is None:
        raise ValidationError(fields={"token": ["Unknown, used or expired token."]})
    PasswordReset.objects(user=user.id).delete()  # any other outstanding token too
    _set_password(user, password)
    revoke_all(user.id)
    security_log.info(
        "password reset", extra={"event": "password_reset_done", "login": str(user.id)}
    )
    return user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_revoked(claims: dict) -> bool:
    """True unless the token's session exists (and belongs to the token's user)."""
    sid = claims.get("sid")
    if not isinstance(sid, str):
        return True
    session = _session_reads.get(sid)
    if session is None or str(session["user"]) != claims.get("sub"):
        return True
    now = utcnow()
    if session["last_used_at"] < now - timedelta(seconds=USE_PRECISION):
        Session._get_collection().update_one({"_id": sid}, {"$set": {"last_used_at": now}})
    return False


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
    return User._from_son(doc) if doc and not doc.get("deactivated") else None


# Every REST call and socket connect reads its session and its user: concurrent ones
# share a query (a reconnect storm is thousands at once).
_session_reads = KeyedReads(lambda: Session._get_collection(), {"user": 1, "last_used_at": 1})
_user_reads = KeyedReads(lambda: User._get_collection())
