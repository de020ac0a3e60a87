"""Integration bodies: API tokens and bots."""

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from chat.models.integration import EVENTS as SUBSCRIBABLE
from chat.models.integration import SCOPES, TOKEN_ROOMS
from chat.schemas.auth import USERNAME, UserOut
from chat.schemas.base import ObjectIdField, OutSchema, Schema, Text
from chat.schemas.users import DISPLAY_NAME

YEAR = 366 * 24 * 3600


class TokenIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(
        Text(validate=validate.OneOf(SCOPES)),
        required=True,
        validate=validate.Length(min=1, max=len(SCOPES)),
    )
    room_ids = fields.List(
        ObjectIdField(),
        data_key="roomIds",
        load_default=None,
        validate=validate.Length(min=1, max=TOKEN_ROOMS),
        metadata={"description": "Only these rooms (absent: every room of the user)."},
    )
    expires_in = fields.Integer(
        data_key="expiresIn",
        load_default=None,
        strict=True,
        validate=validate.Range(min=60, max=YEAR),
        metadata={"description": "Seconds until it stops working (absent: until revoked)."},
    )


class TokenOut(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    userId = fields.String(required=True)
    scopes = fields.List(fields.String(metadata={"enum": list(SCOPES)}), required=True)
    roomIds = fields.List(fields.String(), required=True, allow_none=True)
    createdAt = fields.String(required=True)
    expiresAt = fields.String(required=True, allow_none=True)
    lastUsedAt = fields.String(required=True, allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(
        required=True, metadata={"description": "Shown once: use it as `Bearer <token>`."}
    )


class TokensOut(OutSchema):
    tokens = fields.List(fields.Nested(TokenOut), required=True)


class BotIn(Schema):
    username = Text(required=True, validate=USERNAME)
    display_name = Text(data_key="displayName", load_default="", validate=DISPLAY_NAME)


class NewBotOut(OutSchema):
    user = fields.Nested(UserOut, required=True)
    token = fields.String(required=True, metadata={"description": "Shown once."})
    tokenId = fields.String(required=True)


class BotsOut(OutSchema):
    bots = fields.List(fields.Nested(UserOut), required=True)


class WebhookIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=64))


class WebhookOut(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    roomId = fields.String(required=True)
    botId = fields.String(required=True)
    createdAt = fields.String(required=True)
    createdBy = fields.String(
        required=True, metadata={"description": "Who made it: it ends when they stop being admin."}
    )


class NewWebhookOut(WebhookOut):
    url = fields.String(
        required=True, metadata={"description": "Shown once: POST {text, username?} to it."}
    )


class WebhooksOut(OutSchema):
    webhooks = fields.List(fields.Nested(WebhookOut), required=True)


class HookIn(Schema):
    """A Slack-style delivery: what else such senders include is ignored."""

    class Meta:
        unknown = EXCLUDE

    text = Text(required=True, validate=validate.Length(min=1))
    username = Text(load_default=None, validate=DISPLAY_NAME)


class HookHeaders(Schema):
    class Meta:
        unknown = EXCLUDE

    key = Text(
        data_key="Idempotency-Key",
        load_default=None,
        validate=validate.Regexp(r"^[\x21-\x7e]{1,59}$", error="1 to 59 visible ASCII characters."),
        metadata={"description": "A retried delivery with the same key posts once."},
    )


class SubscriptionIn(Schema):
    url = Text(required=True, validate=validate.Length(min=1, max=2000))
    events = fields.List(
        Text(validate=validate.OneOf(SUBSCRIBABLE)),
        required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
    )


class SubscriptionOut(OutSchema):
    id = fields.String(required=True)
    roomId = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(metadata={"enum": list(SUBSCRIBABLE)}), required=True)
    createdAt = fields.String(required=True)
    createdBy = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Who made it: it ends when they stop being admin."},
    )
    dead = fields.Integer(required=True, metadata={"description": "Dead-lettered deliveries."})


class NewSubscriptionOut(SubscriptionOut):
    secret = fields.String(
        required=True, metadata={"description": "Shown once: `whsec_...`, to verify signatures."}
    )


class SubscriptionsOut(OutSchema):
    subscriptions = fields.List(fields.Nested(SubscriptionOut), required=True)


class DeliveriesQuery(Schema):
    state = Text(load_default=None, validate=validate.OneOf(("pending", "delivered", "dead")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class DeliveryOut(OutSchema):
    id = fields.String(required=True, metadata={"description": "The `webhook-id`."})
    type = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.Integer(required=True)
    lastStatus = fields.Integer(required=True, allow_none=True)
    lastError = fields.String(required=True, allow_none=True)
    createdAt = fields.String(required=True)
    nextAt = fields.String(required=True, allow_none=True)
    deliveredAt = fields.String(required=True, allow_none=True)


class DeliveriesOut(OutSchema):
    deliveries = fields.List(fields.Nested(DeliveryOut), required=True)


class RedeliveredOut(OutSchema):
    redelivered = fields.Integer(required=True)


B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class PushKeysIn(Schema):
    p256dh = Text(
        required=True, validate=[validate.Length(min=80, max=100), validate.Regexp(B64URL)]
    )
    auth = Text(required=True, validate=[validate.Length(min=16, max=32), validate.Regexp(B64URL)])


class PushSubscriptionIn(Schema):
    class Meta:
        unknown = EXCLUDE  # browsers add `expirationTime`

    endpoint = Text(required=True, validate=validate.Length(min=1, max=2000))
    keys = fields.Nested(PushKeysIn, required=True)


class DeviceIn(Schema):
    platform = Text(required=True, validate=validate.OneOf(("webpush", "fcm", "apns")))
    token = Text(
        load_default=None,
        validate=[validate.Length(min=8, max=4096), validate.Regexp(r"^[A-Za-z0-9:_.-]+$")],
        metadata={"description": "FCM registration token or APNs device token (hex)."},
    )
    subscription = fields.Nested(PushSubscriptionIn, load_default=None)

    @validates_schema
    def _one_kind(self, data, **_kwargs):
        webpush = data["platform"] == "webpush"
        if webpush and data.get("subscription") is None:
            raise ValidationError("Web Push needs `subscription`.", "subscription")
        if not webpush and data.get("token") is None:
            raise ValidationError("FCM and APNs need `token`.", "token")
        if webpush and data.get("token") is not None:
            raise ValidationError("Web Push takes `subscription`, not `token`.", "token")
        if not webpush and data.get("subscription") is not None:
            raise ValidationError("Only Web Push takes `subscription`.", "subscription")


class DeviceOut(OutSchema):
    id = fields.String(required=True)
    platform = fields.String(required=True)
    createdAt = fields.String(required=True)
    lastPushedAt = fields.String(required=True, allow_none=True)


class DevicesOut(OutSchema):
    devices = fields.List(fields.Nested(DeviceOut), required=True)
    vapidPublicKey = fields.String(
        required=True, allow_none=True, metadata={"description": "Web Push's applicationServerKey."}
    )
