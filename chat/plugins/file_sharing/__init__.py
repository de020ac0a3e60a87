"""File sharing plugin: uploads become image/file messages; downloads for members only.

Settings (CHAT_PLUGIN_CONFIG["file_sharing"]): max_bytes (10 MiB), storage
("local" or "s3"), directory (var/uploads), s3_bucket, s3_endpoint_url, s3_region.
"""

from pathlib import Path

from chat.plugin_api import MessageDeleted, hookimpl, plugin_config

from . import api, service
from .storage import make_storage

DEFAULTS = {"max_bytes": 10 * 1024 * 1024, "storage": "local"}
VAR = Path(__file__).resolve().parents[2] / "var" / "uploads"


@hookimpl
def register_blueprints(app):
    return [api.bp]


@hookimpl
def startup(app):
    settings = {**DEFAULTS, **plugin_config("file_sharing", app)}
    app.extensions["file_sharing"] = settings
    app.extensions["file_storage"] = make_storage(settings, VAR)


@hookimpl
def extend_message(message):
    attachment = (message.data or {}).get("attachment")
    if not attachment or message.deleted:
        return None
    return {"attachment": {**attachment, "url": f"/api/files/{attachment['id']}"}}


@hookimpl
def track_event(event):
    if isinstance(event, MessageDeleted):
        service.forget_message_files(event.message_id)
