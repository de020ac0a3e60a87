"""Out-of-band delivery: HMAC-signed webhooks with retries, and email over SMTP."""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from chat.plugin_api import send_mail

log = logging.getLogger(__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over "<timestamp>.<body>", what receivers recompute to verify."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_webhook(
    url: str, secret: str, payload: dict, attempts: int, backoff: float, sleep=time.sleep
) -> bool:
    """POST the payload, retrying failures (network errors, 5xx, 429) with backoff.

    Returns:
        True once a receiver answered 2xx; False after the last attempt.
    """
    body = json.dumps(payload, separators=(",", ":")).encode()
    for attempt in range(attempts):
        timestamp = str(int(time.time()))
        # the URL comes from the deployment's configuration, never from users
        request = urllib.request.Request(  # noqa: S310
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "chat-webhooks/1",
                "X-Chat-Event": payload["event"],
                "X-Chat-Timestamp": timestamp,
                "X-Chat-Signature": sign(secret, timestamp, body),
                "X-Chat-Delivery-Attempt": str(attempt + 1),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if 200 <= response.status < 300:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                log.warning("webhook refused with %s; not retrying", exc.code)
                return False
        except OSError as exc:
            log.info("webhook attempt %d failed: %s", attempt + 1, exc)
        if attempt + 1 < attempts:
            sleep(backoff * 2**attempt)
    log.warning("webhook gave up after %d attempts", attempts)
    return False


def send_email(settings: dict, to: str, subject: str, text: str) -> None:
    """The plugin's SMTP settings, through the core's mailer."""
    send_mail(
        settings["smtp_host"],
        int(settings.get("smtp_port", 25)),
        settings["smtp_from"],
        to,
        subject,
        text,
        starttls=bool(settings.get("smtp_starttls")),
        user=settings.get("smtp_user") or "",
        password=settings.get("smtp_password") or "",
    )
