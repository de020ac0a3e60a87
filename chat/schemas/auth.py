"""Account request and response bodies."""

import marshmallow as ma
from marshmallow import fields, validate

from chat.schemas.base import Email, ObjectIdField, OutSchema, Schema, Text

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_.-]{3,32}$",
    error="3 to 32 letters, digits, '_', '.' or '-'.",
)
PASSWORD = validate.Length(min=8, max=128)


def normalize_email(value: str) -> str:
    return value.strip().lower()


class RegisterIn(Schema):
    username = Text(required=True, validate=USERNAME)
    email = Email(required=True, validate=validate.Length(max=254))
    password = Text(required=True, validate=PASSWORD, load_only=True)
    invite = Text(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "An invite link's token: needed when REGISTRATION=invite."},
    )

    @ma.pre_load
    def _strip_email(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": data["email"].strip()}
        return data

    @ma.post_load
    def _normalize(self, data, **kwargs):
        data["email"] = normalize_email(data["email"])
        return data


class LoginIn(Schema):
    username = Text(validate=validate.Length(min=1, max=254))
    email = Text(validate=validate.Length(min=1, max=254))
    password = Text(required=True, validate=validate.Length(min=1, max=128))
    device_token = Text(
        data_key="deviceToken",
        validate=validate.Length(max=512),
        metadata={"description": "From an earlier login on this client: not slowed by others."},
    )

    @ma.validates_schema
    def _one_login(self, data, **kwargs):
        if ("username" in data) == ("email" in data):
            raise ma.ValidationError("Give either username or email.", "username")

    @ma.post_load
    def _normalize(self, data, **kwargs):
        if "email" in data:  # one that normalizes to nothing is no one's: a 401
            data["email"] = normalize_email(data["email"]) or "@"
        return data


class StatusOut(Schema):
    text = fields.String(required=True)
    emoji = fields.String(required=True)
    expiresAt = fields.String(allow_none=True, required=True)


class UserSettingsOut(Schema):
    readReceipts = fields.Boolean(required=True)


class UserOut(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    displayName = fields.String(
        required=True, metadata={"description": "What to show: the username when unset."}
    )
    avatarUrl = fields.String(allow_none=True, required=True)
    status = fields.Nested(StatusOut, allow_none=True, required=True)
    bot = fields.Boolean(required=True)
    deactivated = fields.Boolean(required=True)
    createdAt = fields.String(required=True)
    online = fields.Boolean()
    email = fields.String(metadata={"description": "Only on your own profile."})
    emailVerified = fields.Boolean(
        metadata={"description": "Only on your own profile: a token sent there came back."}
    )
    settings = fields.Nested(UserSettingsOut, metadata={"description": "Only your own."})


class SessionOut(Schema):
    user = fields.Nested(UserOut, required=True)
    accessToken = fields.String(required=True)
    refreshToken = fields.String(required=True)
    deviceToken = fields.String(
        metadata={"description": "Keep it on this client and send it with later logins."}
    )


class AccessOut(Schema):
    accessToken = fields.String(required=True)
    refreshToken = fields.String(
        required=True, metadata={"description": "The next refresh token: this one is spent."}
    )


class PasswordChangeIn(Schema):
    current_password = Text(data_key="currentPassword", required=True, load_only=True,
                            validate=validate.Length(min=1, max=128))  # fmt: skip
    new_password = Text(data_key="newPassword", required=True, load_only=True, validate=PASSWORD)


class PasswordResetIn(Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=254))

    @ma.post_load
    def _normalize(self, data, **kwargs):
        data["email"] = normalize_email(data["email"])
        return data


class AcceptedOut(Schema):
    message = fields.String(required=True)


class EmailTokenIn(Schema):
    token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class PasswordResetConfirmIn(Schema):
    token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    new_password = Text(data_key="newPassword", required=True, load_only=True, validate=PASSWORD)


class PasswordIn(Schema):
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class SessionInfoOut(Schema):
    id = fields.String(required=True)
    device = fields.String(required=True, metadata={"description": "The client's User-Agent."})
    createdAt = fields.String(required=True)
    lastUsedAt = fields.String(required=True, metadata={"description": "To the minute."})
    current = fields.Boolean(required=True, metadata={"description": "The caller's own."})


class SessionListOut(Schema):
    sessions = fields.List(fields.Nested(SessionInfoOut), required=True)


class OnlineQuery(Schema):
    roomId = ObjectIdField()


class OnlineUsersOut(OutSchema):
    users = fields.List(fields.Nested(UserOut))
