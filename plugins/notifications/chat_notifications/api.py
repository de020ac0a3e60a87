"""Notifications over REST: list, mark read, preferences."""

from marshmallow import fields, validate

from chat.plugin_api import (
    BEARER,
    Blueprint,
    ObjectIdField,
    OutSchema,
    Schema,
    StrictBoolean,
    login_required,
)

from . import service
from .service import NotificationOut

bp = Blueprint(
    "notifications", __name__, url_prefix="/api/notifications", description="Notifications"
)


class NotificationQuery(Schema):
    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkReadIn(Schema):
    ids = fields.List(ObjectIdField(), required=True, validate=validate.Length(min=1, max=500))


class NotificationPrefsIn(Schema):
    mutedRooms = fields.List(ObjectIdField(), validate=validate.Length(max=1000))
    email = StrictBoolean()


class NotificationListOut(OutSchema):
    notifications = fields.List(fields.Nested(NotificationOut))


class NotificationPrefsOut(OutSchema):
    mutedRooms = fields.List(fields.String())
    email = fields.Boolean()


@bp.get("")
@bp.doc(security=BEARER)
@login_required(action="read_notifications")
@bp.arguments(NotificationQuery, location="query")
@bp.response(200, NotificationListOut)
def list_notifications(query, actor):
    """Your notifications, newest first (`?unread=true` for unread only)."""
    notes = service.list_notifications(actor, query["unread"], query["limit"])
    return {"notifications": [service.serialize(n) for n in notes]}


@bp.post("/read")
@bp.doc(security=BEARER)
@login_required(action="read_notifications")
@bp.arguments(MarkReadIn)
@bp.response(204)
def mark_read(data, actor):
    """Mark some of your notifications read."""
    service.mark_read(actor, data["ids"])


@bp.get("/preferences")
@bp.doc(security=BEARER)
@login_required(action="read_notifications")
@bp.response(200, NotificationPrefsOut)
def get_preferences(actor):
    """Muted rooms and whether you get emails."""
    return service.serialize_prefs(service.get_prefs(actor))


@bp.put("/preferences")
@bp.doc(security=BEARER)
@login_required(action="read_notifications")
@bp.arguments(NotificationPrefsIn)
@bp.response(200, NotificationPrefsOut)
def put_preferences(data, actor):
    """Mute rooms (replaces the list) and turn emails on or off."""
    prefs = service.update_prefs(actor, data.get("mutedRooms"), data.get("email"))
    return service.serialize_prefs(prefs)
