"""User accounts, login sessions, password resets and the per-account login throttle."""

from mongoengine import (
    BooleanField,
    DateTimeField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from chat.models.base import NO_AUTO_INDEX, utcnow


class Status(EmbeddedDocument):
    """What a user says they are up to; gone after `expires_at` when set."""

    text = StringField(default="", max_length=140)
    emoji = StringField(default="", max_length=64)
    expires_at = DateTimeField()


class User(Document):
    username = StringField(required=True, max_length=32)
    username_lower = StringField(required=True, max_length=32)  # unique, see migrations
    email = StringField(max_length=254)  # normalized, unique; unset when it was another's
    # ...and then the address given is kept here: shown to the account, never used
    unclaimed_email = StringField(max_length=254)
    email_verified = BooleanField(default=False)  # a token sent there came back
    password_hash = StringField(required=True)
    created_at = DateTimeField(default=utcnow)
    display_name = StringField(default="", max_length=64)  # "" shows the username
    display_name_lower = StringField(default="", max_length=64)  # prefix search, indexed
    status = EmbeddedDocumentField(Status)
    avatar_url = StringField(max_length=512)
    read_receipts = BooleanField(default=True)  # others see how far this user has read
    bot = BooleanField(default=False)
    bot_owner = ObjectIdField()  # the user who made this bot (services/bots)
    deactivated = BooleanField(default=False)
    site_admin = BooleanField(default=False)  # `flask users set-admin NAME`
    blocked = ListField(ObjectIdField())  # users this one blocked (services/blocks)
    blocked_by = ListField(ObjectIdField())  # users who blocked this one

    meta = {"collection": "users", **NO_AUTO_INDEX}


class Session(Document):
    """A signed-in client: its tokens carry `sid` = this id, and are refused once the
    document is gone (revoked, or expired with its refresh token)."""

    sid = StringField(primary_key=True)
    user = ObjectIdField(required=True)
    device = StringField(default="", max_length=200)  # the client's User-Agent
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(default=utcnow)
    refresh_jti = StringField()  # the one refresh token that may be used next
    expires_at = DateTimeField(required=True)  # TTL index: when that refresh token dies

    meta = {"collection": "sessions", **NO_AUTO_INDEX}


class PasswordReset(Document):
    """A password-reset token, by the SHA-256 of the token (the token is only emailed)."""

    digest = StringField(primary_key=True)
    user = ObjectIdField(required=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(required=True)  # TTL index

    meta = {"collection": "password_resets", **NO_AUTO_INDEX}


class LoginThrottle(Document):
    """Failed logins per login name, whether or not such an account exists."""

    key = StringField(primary_key=True)
    failures = IntField(default=0)
    locked_until = DateTimeField()
    updated_at = DateTimeField(default=utcnow)  # TTL index

    meta = {"collection": "login_throttles", **NO_AUTO_INDEX}


class Invite(Document):
    """An invite link (`#invite=<token>`), of which only the token's SHA-256 is stored.
    Up to `max_uses` people may register with it (with REGISTRATION=invite, only they
    may), joining `rooms` as added by `created_by`, until `expires_at` (a TTL index)."""

    digest = StringField(required=True)  # unique (migrations)
    created_by = ObjectIdField(required=True)
    rooms = ListField(ObjectIdField())
    max_uses = IntField(default=1)
    uses = IntField(default=0)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(required=True)

    meta = {"collection": "invites", **NO_AUTO_INDEX}


class EmailCheck(Document):
    """A token proving an address (`POST /api/auth/verify-email`), by its SHA-256: it
    marks `user`'s address verified if that is still `email`."""

    digest = StringField(primary_key=True)
    user = ObjectIdField(required=True)
    email = StringField(required=True)
    expires_at = DateTimeField(required=True)  # TTL index

    meta = {"collection": "email_checks", **NO_AUTO_INDEX}
