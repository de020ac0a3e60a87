"""Integrations: API tokens (for people and bots)."""

from mongoengine import DateTimeField, Document, IntField, ListField, ObjectIdField, StringField

from chat.models.base import NO_AUTO_INDEX, utcnow

SCOPES = ("messages:read", "messages:write", "rooms:read", "rooms:write", "users:read")
TOKEN_ROOMS = 100  # rooms a token may be limited to
EVENTS = (  # what a room's subscriptions may ask for
    "message_received",
    "message_updated",
    "message_deleted",
    "user_joined",
    "user_left",
    "room_updated",
    "thread_updated",
)


class ApiToken(Document):
    """A long-lived credential: `cht_<id>_<secret>`, of which only the secret's SHA-256
    is stored. It acts as `user` (a person, or a bot `owner` made), within `scopes` and,
    when `rooms` is set, only in those rooms."""

    user = ObjectIdField(required=True)
    owner = ObjectIdField(required=True)  # who made it: the user, or the bot's owner
    name = StringField(required=True, max_length=100)
    scopes = ListField(StringField(), required=True)
    rooms = ListField(ObjectIdField(), default=None, null=True)  # None: every room
    digest = StringField(required=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()  # None: until revoked
    last_used_at = DateTimeField()

    meta = {"collection": "api_tokens", **NO_AUTO_INDEX}


class IncomingWebhook(Document):
    """`POST /api/hooks/<id>/<secret>` posts in `room` as `bot` (made with the webhook,
    a member of the room). Only the secret's SHA-256 is stored."""

    room = ObjectIdField(required=True)
    name = StringField(required=True, max_length=64)
    bot = ObjectIdField(required=True)
    digest = StringField(required=True)
    created_by = ObjectIdField(required=True)
    created_at = DateTimeField(default=utcnow)

    meta = {"collection": "webhooks", **NO_AUTO_INDEX}


class Subscription(Document):
    """Outgoing webhooks: a room's `events` are POSTed to `url`, signed with `secret`
    (Standard Webhooks: `whsec_` + base64). `room` None: the server's own (the
    notifications plugin's), named by `_id`."""

    key = StringField()  # a server subscription's name ("notifications")
    room = ObjectIdField()
    url = StringField(required=True, max_length=2000)
    events = ListField(StringField(), required=True)
    secret = StringField(required=True)
    created_by = ObjectIdField()
    created_at = DateTimeField(default=utcnow)

    meta = {"collection": "subscriptions", **NO_AUTO_INDEX}


class Delivery(Document):
    """One event for one subscription, kept until delivered: attempted by any process
    (a lease in `next_at`), retried with backoff, `dead` after WEBHOOK_MAX_ATTEMPTS."""

    subscription = ObjectIdField(required=True)
    room = ObjectIdField()
    type = StringField(required=True)
    payload = StringField(required=True)  # the JSON body, signed as is
    state = StringField(default="pending", choices=("pending", "delivered", "dead"))
    attempts = IntField(default=0)
    next_at = DateTimeField(default=utcnow)
    last_status = IntField()  # the receiver's last HTTP status (None: no answer)
    last_error = StringField(max_length=500)
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField()

    meta = {"collection": "deliveries", **NO_AUTO_INDEX}


class Device(Document):
    """Where a user's notifications are pushed while no socket of theirs is live: a Web
    Push subscription (`endpoint`, `p256dh`, `auth`), or an FCM or APNs token."""

    user = ObjectIdField(required=True)
    platform = StringField(required=True, choices=("webpush", "fcm", "apns"))
    token = StringField(max_length=4096)  # fcm, apns
    endpoint = StringField(max_length=2000)  # webpush
    p256dh = StringField(max_length=200)
    auth = StringField(max_length=100)
    created_at = DateTimeField(default=utcnow)
    last_pushed_at = DateTimeField()

    meta = {"collection": "devices", **NO_AUTO_INDEX}
