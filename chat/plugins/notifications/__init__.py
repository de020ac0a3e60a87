"""Notifications plugin: mentions and direct messages notify the people concerned.

Stored (GET /api/notifications), pushed live as `notification` on the user's
personal channel, and - when configured - delivered by webhook and email. The webhook
is the core's outgoing delivery (stored, retried with WEBHOOK_RETRY_SECONDS backoff,
signed to the Standard Webhooks spec with `webhook_secret`, refused for private
addresses unless WEBHOOK_ALLOWED_HOSTS allows them).
Settings (CHAT_PLUGIN_CONFIG["notifications"]), all off by default:
    webhook_url, webhook_secret
    smtp_host, smtp_port (25), smtp_from, smtp_user, smtp_password, smtp_starttls
"""

from chat.plugin_api import ConfigError, MessageCreated, hookimpl, plugin_config

from . import api, service

DEFAULTS = {"smtp_from": "chat@localhost"}


@hookimpl
def register_blueprints(app):
    return [api.bp]


@hookimpl
def register_actions():
    return service.ACTIONS


@hookimpl
def startup(app):
    settings = {**DEFAULTS, **plugin_config("notifications", app)}
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
