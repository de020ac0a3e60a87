"""Invite links: who may register (REGISTRATION), and into which rooms.

An invite is made by a site admin (to the site, and to rooms they may add people to)
or by a room admin (to their rooms). Its token is shown once and stored as a SHA-256;
it lets up to `max_uses` people register until it expires, each joining its rooms as
added by its maker. Whether the maker may still add people is decided again, by the
one policy, each time the invite is looked at: a maker who lost a room's admin role
(or their account) no longer brings anyone into it. The admin role's end also ends
the maker's invites to that room, and their account's end all of them (principals).
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from bson import ObjectId
from flask import current_app
from pymongo import ReturnDocument

from chat.actor import Actor
from chat.errors import Forbidden, NotFound, RegistrationClosed, Unauthorized, ValidationError
from chat.models import Invite, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import auth, policy, rooms
from chat.store.documents import to_oid

security_log = logging.getLogger("chat.security")
MAX_LIVE = 200  # unexpired invites per maker
DEFAULT_SECONDS = 7 * 24 * 3600
NOT_VALID = "This invite is not valid (used up, expired or revoked)."


def create_invite(
    actor: Actor, room_ids: list[str], max_uses: int = 1, expires_in: int | None = None
) -> dict:
    """A new invite; its view plus `token` and `url` (the only time they are shown).

    Raises:
        Forbidden: an invite to no room by someone who is not a site admin; a room the
            actor may not add people to (NotFound for one they cannot see).
        ValidationError: too many live invites.
    """
    oids = list(dict.fromkeys(to_oid(r, "Room") for r in room_ids))
    for oid in oids:
        policy.authorize(actor, "create_invite", room=rooms.get_room(actor, oid))
    if not oids:
        policy.authorize(actor, "site_admin")
    if Invite.objects(created_by=actor.id, expires_at__gt=utcnow()).count() >= MAX_LIVE:
        raise ValidationError(fields={"maxUses": [f"At most {MAX_LIVE} live invites each."]})
    token = secrets.token_urlsafe(24)
    invite = Invite(
        digest=_digest(token),
        created_by=actor.id,
        rooms=oids,
        max_uses=max_uses,
        expires_at=utcnow() + timedelta(seconds=expires_in or DEFAULT_SECONDS),
    )
    invite.save(force_insert=True)
    return {**view(invite), "token": token, "url": link(token)}


def link(token: str) -> str:
    """The web client's sign-up with this invite (PUBLIC_URL's, never the request's)."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/#invite={token}"


def view(invite: Invite) -> dict:
    return {
        "id": str(invite.id),
        "rooms": [str(r) for r in invite.rooms],
        "maxUses": invite.max_uses,
        "uses": invite.uses,
        "createdBy": str(invite.created_by),
        "createdAt": isoformat(invite.created_at),
        "expiresAt": isoformat(invite.expires_at),
    }


def list_invites(actor: Actor) -> list[dict]:
    """The actor's live invites (a site admin's: everyone's), newest first."""
    policy.authorize(actor, "manage_invites")
    query = {} if actor.user.site_admin else {"created_by": actor.id}
    found = Invite.objects(expires_at__gt=utcnow(), **query).order_by("-id")
    return [view(i) for i in found]


def revoke_invite(actor: Actor, invite_id: str) -> None:
    """Delete an invite of the actor's (a site admin: anyone's); NotFound otherwise."""
    policy.authorize(actor, "manage_invites")
    query = {} if actor.user.site_admin else {"created_by": actor.id}
    if not Invite.objects(id=to_oid(invite_id, "Invite"), **query).delete():
        raise NotFound("Invite not found.")


def preview(token: str) -> dict:
    """What an invite leads to, for the sign-up page. NotFound for an unknown, spent,
    expired or revoked one, or one whose maker may no longer invite."""
    invite = _usable(token)
    found = Room.objects(id__in=_rooms_of(invite)).only("name")
    return {
        "rooms": [{"id": str(r.id), "name": r.name} for r in found],
        "expiresAt": isoformat(invite.expires_at),
    }


def check_registration(email: str, token: str | None) -> Invite | None:
    """May an account be made with `email` (and `token`)? The invite that lets it.

    Raises:
        RegistrationClosed: REGISTRATION is closed, or invite-only and the invite is
            not usable.
        ValidationError: the address's domain is not allowed.
    """
    config = current_app.config
    if config["REGISTRATION"] not in ("open", "invite"):
        raise RegistrationClosed("Registration is closed on this server.")
    allowed = config["ALLOWED_EMAIL_DOMAINS"]
    if allowed and email.rpartition("@")[2] not in allowed:
        raise ValidationError(fields={"email": ["This server does not accept that domain."]})
    if token is None:
        if config["REGISTRATION"] == "invite":
            raise RegistrationClosed("Registration needs an invite on this server.")
        return None
    try:
        return _usable(token)
    except NotFound:
        raise RegistrationClosed(NOT_VALID) from None


def register(username: str, email: str, password: str, invite: str | None = None) -> User:
    """Make an account as REGISTRATION and ALLOWED_EMAIL_DOMAINS allow; with an invite,
    it takes one of the invite's uses and joins its rooms.

    Raises:
        RegistrationClosed, ValidationError (see `check_registration`); Conflict: the
            username is taken (the invite's use is given back).
    """
    found = check_registration(email, invite)
    if found is not None and not claim(found):
        raise RegistrationClosed(NOT_VALID)
    try:
        user = auth.register_user(username, email, password)
    except Exception:
        if found is not None:
            give_back(found)
        raise
    if found is not None:
        join_rooms(found, user)
        security_log.info(
            "registered with an invite", extra={"event": "invite_used", "invite": str(found.id)}
        )
    return user


def claim(invite: Invite) -> bool:
    """Take one use of the invite (atomically); False when none is left."""
    taken = Invite._get_collection().find_one_and_update(
        {"_id": invite.id, "expires_at": {"$gt": utcnow()}, "uses": {"$lt": invite.max_uses}},
        {"$inc": {"uses": 1}},
        return_document=ReturnDocument.AFTER,
    )
    return taken is not None


def give_back(invite: Invite) -> None:
    """Return a use taken for an account that was then not made."""
    Invite._get_collection().update_one(
        {"_id": invite.id, "uses": {"$gt": 0}}, {"$inc": {"uses": -1}}
    )


def join_rooms(invite: Invite, user: User) -> None:
    """The new account joins the invite's rooms its maker may still add people to."""
    for room in Room.objects(id__in=_rooms_of(invite)):
        rooms.add_member(room, user)  # (a new account is in no room, banned from none)


def _usable(token: str) -> Invite:
    invite = Invite.objects(digest=_digest(token), expires_at__gt=utcnow()).first()
    if invite is None or invite.uses >= invite.max_uses or _maker(invite) is None:
        raise NotFound("Invite not found.")
    return invite


def _maker(invite: Invite) -> Actor | None:
    """The maker, as they act now (None when their account no longer acts)."""
    maker = User.objects(id=invite.created_by).first()
    if maker is None:
        return None
    actor = Actor.session(maker, "invite")
    try:
        policy.admit(actor, "manage_invites")
    except (Unauthorized, Forbidden):
        return None
    return actor


def _rooms_of(invite: Invite) -> list[ObjectId]:
    """The invite's rooms its maker may add people to now."""
    maker, allowed = _maker(invite), list[ObjectId]()
    if maker is None:
        return allowed
    for room in Room.objects(id__in=invite.rooms):
        try:
            policy.authorize(maker, "create_invite", room=room)
        except (Forbidden, NotFound):
            continue
        allowed.append(room.id)
    return allowed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
