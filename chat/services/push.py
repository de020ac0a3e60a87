"""Device push: a user's registered devices get a notification while no socket of
theirs is live on any process. Web Push (RFC 8030, the payload encrypted to RFC 8291
`aes128gcm` with pywebpush, a VAPID RFC 8292 signature), FCM HTTP v1 (an OAuth 2 token
from the service account's signed assertion) and APNs (HTTP/2, an ES256 provider
token). A device its push service calls gone (404 or 410; APNs `BadDeviceToken`,
`Unregistered`) is removed. Payloads carry ids unless PUSH_INCLUDE_CONTENT is set.

A Web Push endpoint is a URL a user gave: it is reached only through the outgoing
request guard (services/outbound: public addresses, the checked address, no
credentials), like webhooks.
"""

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from flask import current_app
from py_vapid import Vapid02
from pywebpush import WebPusher

from chat.actor import Actor
from chat.errors import NotFound, ValidationError
from chat.models import Device
from chat.models.base import isoformat, utcnow
from chat.services import outbound, policy
from chat.store.documents import to_oid

log = logging.getLogger(__name__)
MAX_DEVICES = 20  # per user
TTL = 24 * 3600  # seconds a push service keeps an undelivered Web Push
TIMEOUT = 10.0
UNCOMPRESSED = serialization.PublicFormat.UncompressedPoint


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the push service's answer (None: no answer)
    gone: bool  # the device is no more: remove it


def register(actor: Actor, platform: str, token: str | None, subscription: dict | None) -> dict:
    """Register (or refresh) a device of the actor's; idempotent per token / endpoint.

    Raises:
        InsufficientScope: tokens do not register devices. ValidationError: a Web Push
        endpoint that may not be reached, a platform this server has no sender for.
    """
    policy.authorize(actor, "manage_devices")
    if not configured(platform):
        raise ValidationError(fields={"platform": [f"This server does not push to {platform}."]})
    fields: dict = {"token": token, "endpoint": None, "p256dh": None, "auth": None}
    if platform == "webpush":
        assert subscription is not None  # the schema requires it
        outbound.check_url(subscription["endpoint"], "subscription")
        keys = subscription["keys"]
        fields = {"token": None, "endpoint": subscription["endpoint"], **keys}
    query = {"user": actor.id, "platform": platform, "token": fields["token"]}
    query["endpoint"] = fields["endpoint"]
    existing = Device.objects(**query).first()
    if existing is None and Device.objects(user=actor.id).count() >= MAX_DEVICES:
        raise ValidationError(fields={"platform": [f"At most {MAX_DEVICES} devices."]})
    device = existing or Device(user=actor.id, platform=platform)
    for key, value in fields.items():
        setattr(device, key, value)
    device.save()
    return view(device)


def view(device: Device) -> dict:
    return {
        "id": str(device.id),
        "platform": device.platform,
        "createdAt": isoformat(device.created_at),
        "lastPushedAt": isoformat(device.last_pushed_at),
    }


def devices(actor: Actor) -> list[dict]:
    policy.authorize(actor, "manage_devices")
    return [view(d) for d in Device.objects(user=actor.id).order_by("id")]


def unregister(actor: Actor, device_id: str) -> None:
    policy.authorize(actor, "manage_devices")
    found = Device.objects(id=to_oid(device_id, "Device"), user=actor.id).delete()
    if not found:
        raise NotFound("Device not found.")


def configured(platform: str) -> bool:
    config = current_app.config
    key = {"webpush": "VAPID_PRIVATE_KEY", "fcm": "FCM_CREDENTIALS", "apns": "APNS_KEY_FILE"}
    return bool(config[key[platform]])


def vapid_public_key() -> str | None:
    """The application server key browsers subscribe with (base64url), or None."""
    if not configured("webpush"):
        return None
    key = _vapid(current_app.config["VAPID_PRIVATE_KEY"]).public_key
    return _b64url(key.public_bytes(serialization.Encoding.X962, UNCOMPRESSED))


def notify(user_id: str, payload: dict) -> int:
    """Push `payload` to each of the user's devices; how many took it. The caller
    decides that the user has no live socket (the notifications plugin does)."""
    sent = 0
    for device in Device.objects(user=to_oid(user_id, "User")):
        try:
            outcome = SENDERS[device.platform](device, payload)
        except Exception:  # one device's trouble is not the others'
            log.warning("push to a device failed", exc_info=True, extra={"device": str(device.id)})
            continue
        if outcome.gone:
            log.info("push device gone: removed", extra={"device": str(device.id)})
            device.delete()
        elif outcome.status is not None and 200 <= outcome.status < 300:
            Device.objects(id=device.id).update_one(set__last_pushed_at=utcnow())
            sent += 1
    return sent


# --- Web Push ---


def _webpush(device: Device, payload: dict) -> Outcome:
    subscription = {
        "endpoint": device.endpoint,
        "keys": {"p256dh": device.p256dh, "auth": device.auth},
    }
    encoded = WebPusher(subscription).encode(json.dumps(payload).encode(), "aes128gcm")
    parts = urlsplit(device.endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + 12 * 3600,
        "sub": current_app.config["VAPID_SUBJECT"],
    }
    headers = {
        **_vapid(current_app.config["VAPID_PRIVATE_KEY"]).sign(claims),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL),
        "Urgency": "high",
    }
    try:
        status = outbound.post(device.endpoint, encoded["body"], headers, TIMEOUT)
    except outbound.Refused:
        return Outcome(None, True)  # its endpoint may no longer be reached: drop it
    return Outcome(status, status in (404, 410))


@cache
def _vapid(private_key: str) -> Vapid02:
    if "BEGIN" in private_key:
        return Vapid02.from_pem(private_key.encode())
    return Vapid02.from_raw(private_key.encode())


# --- FCM HTTP v1 ---


class _Credentials:
    """The service account's OAuth 2 access token, fetched with a signed assertion
    and kept until a minute before it expires."""

    def __init__(self):
        self.lock = threading.Lock()
        self.token, self.until, self.path = "", 0.0, ""

    def access_token(self) -> tuple[str, dict]:
        path = current_app.config["FCM_CREDENTIALS"]
        account = _account(path)
        with self.lock:
            if self.path != path or time.time() > self.until - 60:
                now = int(time.time())
                claims = {
                    "iss": account["client_email"],
                    "scope": "https://www.googleapis.com/auth/firebase.messaging",
                    "aud": account["token_uri"],
                    "iat": now,
                    "exp": now + 3600,
                }
                assertion = jwt.encode(claims, account["private_key"], algorithm="RS256")
                answer = httpx.post(
                    account["token_uri"],
                    data={
                        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                        "assertion": assertion,
                    },
                    timeout=TIMEOUT,
                )
                answer.raise_for_status()
                body = answer.json()
                self.token, self.path = body["access_token"], path
                self.until = time.time() + int(body.get("expires_in", 3600))
            return self.token, account


_fcm_credentials = _Credentials()


@cache
def _account(path: str) -> dict:
    with open(path) as file:
        return json.load(file)


def _fcm(device: Device, payload: dict) -> Outcome:
    token, account = _fcm_credentials.access_token()
    url = f"{current_app.config['FCM_URL']}/v1/projects/{account['project_id']}/messages:send"
    data = {k: str(v) for k, v in payload.items()}  # FCM data values are strings
    message = {"message": {"token": device.token, "data": data, "android": {"priority": "high"}}}
    answer = httpx.post(
        url, json=message, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    gone = answer.status_code == 404 or "UNREGISTERED" in answer.text
    return Outcome(answer.status_code, gone and answer.status_code >= 400)


# --- APNs ---


class _Provider:
    """The APNs provider token (ES256), renewed every 50 minutes (APNs refuses one
    older than an hour, and one renewed more often than every 20 minutes), and at once
    when the key, its id or the team changes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.token, self.made, self.signer = "", 0.0, ("", "", "")

    def get(self) -> str:
        config = current_app.config
        signer = (config["APNS_KEY_FILE"], config["APNS_KEY_ID"], config["APNS_TEAM_ID"])
        with self.lock:
            if self.signer != signer or time.time() - self.made > 50 * 60:
                with open(signer[0]) as file:
                    key = file.read()
                self.token = jwt.encode(
                    {"iss": signer[2], "iat": int(time.time())},
                    key,
                    algorithm="ES256",
                    headers={"kid": signer[1]},
                )
                self.made, self.signer = time.time(), signer
            return self.token


_apns_provider = _Provider()


def _apns(device: Device, payload: dict) -> Outcome:
    config = current_app.config
    body = {"aps": {"alert": {"title": payload.get("title", "New message")}, "sound": "default"}}
    body |= {k: v for k, v in payload.items() if k != "title"}
    headers = {
        "authorization": f"bearer {_apns_provider.get()}",
        "apns-topic": config["APNS_TOPIC"],
        "apns-push-type": "alert",
        "apns-expiration": str(int(time.time()) + TTL),
    }
    with _http2() as client:
        answer = client.post(
            f"{config['APNS_URL']}/3/device/{device.token}", json=body, headers=headers
        )
    reason = answer.json().get("reason", "") if answer.content else ""
    gone = answer.status_code == 410 or reason in ("BadDeviceToken", "Unregistered")
    return Outcome(answer.status_code, gone)


def _http2() -> httpx.Client:
    """HTTP/2 only (APNs speaks nothing else): negotiated over TLS, and with prior
    knowledge on a cleartext URL (a local APNs stand-in)."""
    return httpx.Client(http1=False, http2=True, timeout=TIMEOUT)


SENDERS = {"webpush": _webpush, "fcm": _fcm, "apns": _apns}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
