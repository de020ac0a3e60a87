"""Notifications plugin: mentions and direct messages notify the people concerned.

Stored (GET /api/notifications), pushed live as `notification` on the user's
personal channel, and - when configured - delivered by webhook and email. The webhook
is the core's outgoing delivery (stored, retried with WEBHOOK_RETRY_SECONDS backoff,
signed to the Standard Webhooks spec with `webhook_secret`, refused for private
addresses unless WEBHOOK_ALLOWED_HOSTS allows them).
Settings (CHAT_PLUGIN_CONFIG["notifications"]):
    webhook_url, webhook_secret (off by default)
    email (true): email offline users, through the server's SMTP settings (SMTP_HOST,
        SMTP_PORT, MAIL_FROM, ...: the one mail configuration; none: no email)
"""

from chat.plugin_api import ConfigError, MessageCreated, hookimpl, plugin_config

from . import api, service

DEFAULTS = {"email": True}


@hookimpl
def register_blueprints(app):
    return [api.bp]


@hookimpl
def register_actions():
    return service.ACTIONS


@hookimpl
def startup(app):
    settings = {**DEFAULTS, **plugin_config("notifications", app)}
    moved = sorted(k for k in settings if k.startswith("smtp_"))
    if moved:  # fail closed: a setting that no longer does anything is an error
        raise ConfigError(
            f"notifications: {', '.join(moved)} moved to the server's SMTP_HOST, "
            "SMTP_PORT, MAIL_FROM, SMTP_USER, SMTP_PASSWORD and SMTP_STARTTLS"
        )
    url = settings.get("webhook_url")
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError("notifications: webhook_url must be an http(s) URL")
    if url and not settings.get("webhook_secret"):
        raise ConfigError("notifications: webhook_url needs a webhook_secret to sign with")
    app.extensions["notifications"] = settings


@hookimpl
def track_event(event):
    if isinstance(event, MessageCreated):
        service.on_message_created(event)
