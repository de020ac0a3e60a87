"""Outgoing webhooks: a room's admins subscribe a URL to some of the room's events.
Each event becomes a stored delivery (so it survives restarts), POSTed and signed to
the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`,
via the `standardwebhooks` package) by whichever process claims it first, retried
with exponential backoff (WEBHOOK_RETRY_SECONDS doubling up to
WEBHOOK_RETRY_MAX_SECONDS), and dead-lettered after WEBHOOK_MAX_ATTEMPTS: at least
once, with the `webhook-id` for the receiver to drop repeats.
"""

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from flask import current_app
from pymongo import ReturnDocument
from standardwebhooks.webhooks import Webhook

from chat.actor import Actor
from chat.errors import NotFound, ValidationError
from chat.events import Event
from chat.models import Delivery, Subscription
from chat.models.base import isoformat, utcnow
from chat.models.integration import EVENTS
from chat.services import outbound, policy, principals
from chat.services.rooms import get_room
from chat.store.documents import to_oid

log = logging.getLogger(__name__)
MAX_PER_ROOM = 10
LEASE = timedelta(seconds=60)  # a claimed delivery is tried again after this
CLAIMS = 20  # deliveries one process starts per second
ROOMS_TTL = 5.0  # seconds a process trusts its list of rooms with subscriptions


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def subscribe(actor: Actor, room_id: str, url: str, events: list[str]) -> dict:
    """A subscription of the room (its admins; people only): {id, url, events, secret},
    the secret shown only here. The URL is checked now and at each delivery. It ends
    when its creator stops being an admin of the room (services/principals)."""
    room = get_room(actor, room_id)
    policy.authorize(actor, "manage_subscriptions", room=room)
    if Subscription.objects(room=room.id).count() >= MAX_PER_ROOM:
        raise ValidationError(fields={"url": [f"At most {MAX_PER_ROOM} subscriptions a room."]})
    outbound.check_url(url)
    sub = Subscription(
        room=room.id, url=url, events=sorted(set(events)), secret=new_secret(), created_by=actor.id
    )
    sub.save(force_insert=True)
    _rooms_cache.clear()
    return {**view(sub), "secret": sub.secret}


def view(sub: Subscription) -> dict:
    return {
        "id": str(sub.id),
        "roomId": str(sub.room),
        "url": sub.url,
        "events": list(sub.events),
        "createdAt": isoformat(sub.created_at),
        "createdBy": str(sub.created_by) if sub.created_by else None,
        "dead": Delivery.objects(subscription=sub.id, state="dead").count(),
    }


def _room_subscription(actor: Actor, room_id: str, sub_id: str | None = None):
    room = get_room(actor, room_id)
    policy.authorize(actor, "manage_subscriptions", room=room)
    if sub_id is None:
        return room, None
    sub = Subscription.objects(id=to_oid(sub_id, "Subscription"), room=room.id).first()
    if sub is None:
        raise NotFound("Subscription not found.")
    return room, sub


def list_subscriptions(actor: Actor, room_id: str) -> list[dict]:
    room, _ = _room_subscription(actor, room_id)
    return [view(s) for s in Subscription.objects(room=room.id).order_by("id")]


def unsubscribe(actor: Actor, room_id: str, sub_id: str) -> None:
    """Delete a subscription and its deliveries not yet made."""
    _, sub = _room_subscription(actor, room_id, sub_id)
    principals.end_subscription(sub)
    _rooms_cache.clear()


def deliveries(actor: Actor, room_id: str, sub_id: str, state: str | None, limit: int) -> list:
    """A subscription's deliveries, newest first (`state=dead`: the dead letters)."""
    _, sub = _room_subscription(actor, room_id, sub_id)
    query = {"subscription": sub.id, **({"state": state} if state else {})}
    found = Delivery.objects(**query).order_by("-id").limit(limit)
    return [_delivery_view(d) for d in found]


def _delivery_view(d: Delivery) -> dict:
    return {
        "id": f"msg_{d.id}",
        "type": d.type,
        "state": d.state,
        "attempts": d.attempts,
        "lastStatus": d.last_status,
        "lastError": d.last_error,
        "createdAt": isoformat(d.created_at),
        "nextAt": isoformat(d.next_at) if d.state == "pending" else None,
        "deliveredAt": isoformat(d.delivered_at),
    }


def redeliver(actor: Actor, room_id: str, sub_id: str) -> int:
    """Give the subscription's dead letters a new round of attempts; how many."""
    _, sub = _room_subscription(actor, room_id, sub_id)
    return Delivery.objects(subscription=sub.id, state="dead").update(
        set__state="pending", set__attempts=0, set__next_at=utcnow()
    )


# --- events in, deliveries out ---


class _RoomsWithSubscriptions:
    """Which rooms have subscriptions, read again every ROOMS_TTL seconds (and at once
    after this process changes one): most events then cost no query at all."""

    def __init__(self):
        self.rooms: set = set()
        self.read_at = float("-inf")

    def get(self) -> set:
        if time.monotonic() - self.read_at > ROOMS_TTL:
            self.rooms = set(Subscription._get_collection().distinct("room"))
            self.read_at = time.monotonic()
        return self.rooms

    def clear(self) -> None:
        self.read_at = float("-inf")


_rooms_cache = _RoomsWithSubscriptions()


def enqueue(event: Event) -> int:
    """Store a delivery of `event` for each subscription of its room that asked for it
    (called for every published event, off the request); how many."""
    if event.name not in EVENTS or not event.room_id:
        return 0
    room = ObjectId(event.room_id)
    if room not in _rooms_cache.get():
        return 0
    subs = Subscription.objects(room=room, events=event.name).only("id")
    return enqueue_payload([s.id for s in subs], event.name, event.payload(), room)


def enqueue_payload(subs: list, kind: str, data: dict, room: ObjectId | None = None) -> int:
    """Store deliveries of one event to `subs`: {type, timestamp, data} as the body."""
    if not subs:
        return 0
    body = json.dumps({"type": kind, "timestamp": isoformat(utcnow()), "data": data})
    docs = [Delivery(subscription=s, room=room, type=kind, payload=body) for s in subs]
    Delivery.objects.insert(docs, load_bulk=False)
    return len(docs)


def deliver_to(key: str, url: str, secret: str, kind: str, data: dict) -> None:
    """Send an event to a URL from the server's configuration (a plugin's webhook) on
    the same durable, signed delivery: the server subscription `key` follows `url` and
    `secret` (a `whsec_` secret, or any text, used as its bytes)."""
    if not secret.startswith("whsec_"):
        secret = "whsec_" + base64.b64encode(secret.encode()).decode()
    sub = Subscription._get_collection().find_one_and_update(
        {"key": key},
        {"$set": {"url": url, "secret": secret, "events": [kind]}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        projection={"_id": 1},
    )
    enqueue_payload([sub["_id"]], kind, data)


def dispatch(spawn: Callable[..., object]) -> int:
    """Claim the deliveries due (at most CLAIMS) and attempt each in the background
    (`spawn(fn, *args)`, the transport's: a greenlet under gevent); how many. Every
    process runs it each second (an upkeep job): a claim moves
    `next_at` past LEASE, so a delivery in flight is not claimed twice, and one whose
    process died is claimed again after it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    claimed = 0
    for _ in range(CLAIMS):
        now = utcnow()
        doc = Delivery._get_collection().find_one_and_update(
            {"state": "pending", "next_at": {"$lte": now}},
            {"$set": {"next_at": now + LEASE}, "$inc": {"attempts": 1}},
            sort=[("next_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            break
        spawn(_attempt_in, app, doc)
        claimed += 1
    return claimed


def _attempt_in(app, doc: dict) -> None:
    with app.app_context():
        try:
            attempt(doc)
        except Exception:  # a bug must not kill the greenlet silently; retried later
            log.exception("webhook delivery failed unexpectedly")


def attempt(doc: dict) -> str:
    """One attempt at a claimed delivery; its new state."""
    sub = Subscription.objects(id=doc["subscription"]).first()
    if sub is None:  # unsubscribed meanwhile
        Delivery.objects(id=doc["_id"]).delete()
        return "dropped"
    msg_id, sent_at = f"msg_{doc['_id']}", datetime.now(UTC)
    signature = Webhook(sub.secret).sign(msg_id, sent_at, doc["payload"])
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": "chat-webhooks/2",
    }
    config = current_app.config
    status, error = None, None
    try:
        status = outbound.post(sub.url, doc["payload"].encode(), headers, config["WEBHOOK_TIMEOUT"])
    except outbound.Refused as exc:
        error = str(exc)
    except Exception as exc:  # no answer: refused, reset, timed out
        error = f"{type(exc).__name__}: {exc}"[:500]
    if status is not None and 200 <= status < 300:
        _set(doc, state="delivered", delivered_at=utcnow(), last_status=status)
        return "delivered"
    if doc["attempts"] >= config["WEBHOOK_MAX_ATTEMPTS"]:
        _set(doc, state="dead", last_status=status, last_error=error)
        log.warning("webhook delivery dead-lettered", extra={"delivery": msg_id})
        return "dead"
    delay = config["WEBHOOK_RETRY_SECONDS"] * 2 ** (doc["attempts"] - 1)
    delay = min(delay, config["WEBHOOK_RETRY_MAX_SECONDS"])
    _set(doc, next_at=utcnow() + timedelta(seconds=delay), last_status=status, last_error=error)
    return "pending"


def _set(doc: dict, **fields) -> None:
    Delivery._get_collection().update_one({"_id": doc["_id"]}, {"$set": fields})
