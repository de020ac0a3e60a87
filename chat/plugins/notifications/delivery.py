"""Out-of-band delivery by email over SMTP (webhooks go through the core's durable,
signed delivery: `deliver_webhook`)."""

import logging

from chat.plugin_api import send_mail

log = logging.getLogger(__name__)


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
