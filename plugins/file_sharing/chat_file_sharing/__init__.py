"""File sharing plugin: uploads become image/file messages; downloads for members only.

Settings (CHAT_PLUGIN_CONFIG["file_sharing"]): max_bytes (10 MiB), storage
("local" or "s3"), directory (var/uploads in the working directory), s3_bucket,
s3_endpoint_url, s3_region.
"""

from pathlib import Path

from marshmallow import fields

from chat.plugin_api import MessageDeleted, hookimpl, plugin_config

from . import api, service
from .storage import make_storage

DEFAULTS = {"max_bytes": 10 * 1024 * 1024, "storage": "local"}


@hookimpl
def register_blueprints(app):
    return [api.bp]


@hookimpl
def register_actions():
    return service.ACTIONS


@hookimpl
def startup(app):
    settings = {**DEFAULTS, **plugin_config("file_sharing", app)}
    app.extensions["file_sharing"] = settings
    default = Path.cwd() / "var" / "uploads"  # where the server runs, not the package
    app.extensions["file_storage"] = make_storage(settings, default)


@hookimpl
def extend_message(message):
    attachment = (message.data or {}).get("attachment")
    if not attachment or message.deleted:
        return None
    return {"attachment": {**attachment, "url": f"/api/files/{attachment['id']}"}}


@hookimpl
def message_fields():
    return {"attachment": fields.Nested(api.AttachmentOut)}


@hookimpl
def track_event(event):
    if isinstance(event, MessageDeleted):
        service.forget_message_files(event.message_id)
