"""Email over SMTP, configured once (SMTP_HOST, ...: chat/settings.py): the core's
(password resets) and plugins' (notifications, through `send_email`)."""

import html
import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from chat.extensions import socketio

log = logging.getLogger(__name__)


def send(
    host: str,
    port: int,
    sender: str,
    to: str,
    subject: str,
    text: str,
    starttls: bool = False,
    user: str = "",
    password: str = "",
) -> None:
    """A plain-text email with an escaped HTML alternative.

    Raises:
        OSError: smtplib's errors included.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(
        f"<html><body><p>{html.escape(text).replace(chr(10), '<br>')}</p></body></html>",
        subtype="html",
    )
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        if starttls:
            smtp.starttls()
        if user:
            smtp.login(user, password)
        smtp.send_message(message)


def send_later(config, to: str, subject: str, text: str) -> None:
    """Send with the app's SMTP settings in the background (a failure is logged): the
    caller's answer neither waits for the server nor tells whether it accepted."""
    settings = {
        "host": config["SMTP_HOST"],
        "port": config["SMTP_PORT"],
        "sender": config["MAIL_FROM"],
        "starttls": config["SMTP_STARTTLS"],
        "user": config["SMTP_USER"],
        "password": config["SMTP_PASSWORD"],
    }
    socketio.start_background_task(_send_logged, settings, to, subject, text)


def configured() -> bool:
    """Whether the server has a mail server to send through (SMTP_HOST)."""
    return bool(current_app.config["SMTP_HOST"])


def send_email(to: str, subject: str, text: str) -> None:
    """Send with the server's SMTP settings, in the background: a failure is logged
    (nothing is sent when SMTP_HOST is unset)."""
    if configured():
        send_later(current_app.config, to, subject, text)


def _send_logged(settings: dict, to: str, subject: str, text: str) -> None:
    try:
        send(to=to, subject=subject, text=text, **settings)
    except OSError:
        log.warning("an email could not be sent", exc_info=True)
