"""Integrations over REST: API tokens, bots and incoming webhooks (made by signed-in
people only: a token makes none of them), and the webhooks' own URL."""

from functools import wraps

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from chat.api.endpoint import ACTION, BEARER, Blueprint, login_required
from chat.errors import PayloadTooLarge
from chat.schemas.integrations import (
    BotIn,
    BotsOut,
    DeliveriesOut,
    DeliveriesQuery,
    DeviceIn,
    DeviceOut,
    DevicesOut,
    HookHeaders,
    HookIn,
    NewBotOut,
    NewSubscriptionOut,
    NewTokenOut,
    NewWebhookOut,
    RedeliveredOut,
    SubscriptionIn,
    SubscriptionsOut,
    TokenIn,
    TokensOut,
    WebhookIn,
    WebhooksOut,
)
from chat.schemas.messages import MessageOut
from chat.services import bots, push, subscriptions, tokens, webhooks

HOOK_MAX_BYTES = 64 * 1024

bp = Blueprint("integrations", __name__, url_prefix="/api", description="Integrations")


@bp.post("/tokens")
@bp.doc(security=BEARER)
@login_required(action="manage_tokens")
@bp.arguments(TokenIn)
@bp.response(201, NewTokenOut)
def create_token(data, actor):
    """A new API token acting as you, within `scopes` (and `roomIds` when given). The
    token is in this response only; it is stored hashed."""
    return tokens.create_token(actor, **data)


@bp.get("/tokens")
@bp.doc(security=BEARER)
@login_required(action="manage_tokens")
@bp.response(200, TokensOut)
def list_tokens(actor):
    """Your API tokens, newest first (never their secrets), with `lastUsedAt`."""
    return {"tokens": tokens.list_tokens(actor)}


@bp.delete("/tokens/<token_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_tokens")
@bp.response(204)
def revoke_token(token_id, actor):
    """Revoke a token: refused from the next request; its sockets close on every process."""
    tokens.revoke_token(actor, token_id)


@bp.post("/bots")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.arguments(BotIn)
@bp.response(201, NewBotOut)
def create_bot(data, actor):
    """A bot account you own (`bot: true`), with a first token of every scope."""
    return bots.create_bot(actor, **data)


@bp.get("/bots")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.response(200, BotsOut)
def list_bots(actor):
    """Your bots."""
    return {"bots": bots.list_bots(actor)}


@bp.delete("/bots/<bot_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.response(204)
def delete_bot(bot_id, actor):
    """Deactivate a bot of yours: its tokens are revoked, its messages stay."""
    bots.delete_bot(actor, bot_id)


@bp.post("/bots/<bot_id>/tokens")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.arguments(TokenIn)
@bp.response(201, NewTokenOut)
def create_bot_token(data, bot_id, actor):
    """Another token for a bot of yours."""
    return tokens.create_token(actor, **data, subject=bots.get_bot(actor, bot_id))


@bp.get("/bots/<bot_id>/tokens")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.response(200, TokensOut)
def list_bot_tokens(bot_id, actor):
    """A bot's tokens."""
    return {"tokens": tokens.list_tokens(actor, bots.get_bot(actor, bot_id))}


@bp.delete("/bots/<bot_id>/tokens/<token_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_bots")
@bp.response(204)
def revoke_bot_token(bot_id, token_id, actor):
    """Revoke a bot's token."""
    tokens.revoke_token(actor, token_id, bots.get_bot(actor, bot_id))


@bp.post("/rooms/<room_id>/webhooks")
@bp.doc(security=BEARER)
@login_required(action="manage_webhooks")
@bp.arguments(WebhookIn)
@bp.response(201, NewWebhookOut)
def create_webhook(data, room_id, actor):
    """An incoming webhook of the room (room admins): `POST <url>` with `{text,
    username?}` posts as its bot. The URL holds its secret and is shown only here."""
    hook, secret = webhooks.create_webhook(actor, room_id, data["name"])
    url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/hooks/{hook.id}/{secret}"
    return {**webhooks.view(hook), "url": url}


@bp.get("/rooms/<room_id>/webhooks")
@bp.doc(security=BEARER)
@login_required(action="manage_webhooks")
@bp.response(200, WebhooksOut)
def list_webhooks(room_id, actor):
    """The room's incoming webhooks (room admins), without their URLs."""
    return {"webhooks": webhooks.list_webhooks(actor, room_id)}


@bp.delete("/rooms/<room_id>/webhooks/<hook_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_webhooks")
@bp.response(204)
def delete_webhook(room_id, hook_id, actor):
    """Remove a webhook: its URL stops working, its bot is deactivated."""
    webhooks.delete_webhook(actor, room_id, hook_id)


def _capped(fn):
    """The webhook's cap holds for a body of any framing: a chunked one has no
    Content-Length, so at most one byte past the cap is read (Werkzeug stops there),
    and a body that reaches it is refused before it is parsed."""

    @wraps(fn)
    def capped(*args, **kwargs):
        too_large = PayloadTooLarge(f"At most {HOOK_MAX_BYTES} bytes.")
        if (request.content_length or 0) > HOOK_MAX_BYTES:
            raise too_large
        request.max_content_length = HOOK_MAX_BYTES + 1
        try:
            body = request.get_data(cache=True)  # what the schema then reads
        except RequestEntityTooLarge:
            raise too_large from None
        if len(body) > HOOK_MAX_BYTES:
            raise too_large
        return fn(*args, **kwargs)

    return capped


@bp.post("/hooks/<hook_id>/<secret>")
@bp.doc(**{ACTION: "post_message"})  # as the webhook's bot, limited to its room
@_capped
@bp.arguments(HookHeaders, location="headers")
@bp.arguments(HookIn)
@bp.response(201, MessageOut)
@bp.alt_response(200, schema=MessageOut, description="A retry (same Idempotency-Key).")
def deliver(headers, data, hook_id, secret):
    """Post in the webhook's room (no other credential: the URL's secret is one).
    JSON only, at most 64 KiB, 30 at once and 1 a second after (429 with Retry-After)."""
    posted = webhooks.deliver(hook_id, secret, data["text"], data["username"], headers["key"])
    return posted.wire, 201 if posted.created else 200


SUBSCRIPTIONS = "/rooms/<room_id>/subscriptions"


@bp.post(SUBSCRIPTIONS)
@bp.doc(security=BEARER)
@login_required(action="manage_subscriptions")
@bp.arguments(SubscriptionIn)
@bp.response(201, NewSubscriptionOut)
def subscribe(data, room_id, actor):
    """Send the room's `events` to `url` (room admins): signed to the Standard Webhooks
    spec with `secret` (shown only here), stored, retried with backoff until delivered.
    Private, loopback and link-local addresses are refused (WEBHOOK_ALLOWED_HOSTS)."""
    return subscriptions.subscribe(actor, room_id, data["url"], data["events"])


@bp.get(SUBSCRIPTIONS)
@bp.doc(security=BEARER)
@login_required(action="manage_subscriptions")
@bp.response(200, SubscriptionsOut)
def list_subscriptions(room_id, actor):
    """The room's subscriptions (room admins), with their dead-letter counts."""
    return {"subscriptions": subscriptions.list_subscriptions(actor, room_id)}


@bp.delete(f"{SUBSCRIPTIONS}/<sub_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_subscriptions")
@bp.response(204)
def unsubscribe(room_id, sub_id, actor):
    """Stop a subscription; its deliveries not yet made are dropped."""
    subscriptions.unsubscribe(actor, room_id, sub_id)


@bp.get(f"{SUBSCRIPTIONS}/<sub_id>/deliveries")
@bp.doc(security=BEARER)
@login_required(action="manage_subscriptions")
@bp.arguments(DeliveriesQuery, location="query")
@bp.response(200, DeliveriesOut)
def list_deliveries(query, room_id, sub_id, actor):
    """A subscription's deliveries, newest first; `state=dead` lists the dead letters."""
    found = subscriptions.deliveries(actor, room_id, sub_id, query["state"], query["limit"])
    return {"deliveries": found}


@bp.post(f"{SUBSCRIPTIONS}/<sub_id>/redeliver")
@bp.doc(security=BEARER)
@login_required(action="manage_subscriptions")
@bp.response(200, RedeliveredOut)
def redeliver(room_id, sub_id, actor):
    """Try the dead letters again (a new round of attempts)."""
    return {"redelivered": subscriptions.redeliver(actor, room_id, sub_id)}


@bp.post("/devices")
@bp.doc(security=BEARER)
@login_required(action="manage_devices")
@bp.arguments(DeviceIn)
@bp.response(201, DeviceOut)
def register_device(data, actor):
    """Register a device for push (again: the same device, refreshed). It gets your
    notifications while none of your sockets is connected anywhere."""
    return push.register(actor, data["platform"], data["token"], data["subscription"])


@bp.get("/devices")
@bp.doc(security=BEARER)
@login_required(action="manage_devices")
@bp.response(200, DevicesOut)
def list_devices(actor):
    """Your devices, and the VAPID public key Web Push subscriptions are made with."""
    return {"devices": push.devices(actor), "vapidPublicKey": push.vapid_public_key()}


@bp.delete("/devices/<device_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_devices")
@bp.response(204)
def unregister_device(device_id, actor):
    """Stop pushing to a device."""
    push.unregister(actor, device_id)
