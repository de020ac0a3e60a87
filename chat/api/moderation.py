"""Moderation and administration over REST: reports, site admins' user list and
actions, the audit log."""

from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.auth import UserOut
from chat.schemas.moderation import (
    AdminUsersOut,
    AdminUsersQuery,
    AuditOut,
    PageQuery,
    ReportIn,
    ReportOut,
    ReportsOut,
    ReportsQuery,
    ResolveIn,
)
from chat.services import moderation

bp = Blueprint("moderation", __name__, url_prefix="/api", description="Moderation")


@bp.post("/messages/<message_id>/report")
@bp.doc(security=BEARER)
@login_required(action="report_message")
@bp.arguments(ReportIn)
@bp.response(201, ReportOut)
def report(data, message_id, actor):
    """Report a message you can read (once; 409 again): room and site admins see it."""
    return moderation.report_message(actor, message_id, data["reason"], data["note"])


@bp.get("/rooms/<room_id>/reports")
@bp.doc(security=BEARER)
@login_required(action="room_reports")
@bp.arguments(ReportsQuery, location="query")
@bp.response(200, ReportsOut)
def room_reports(query, room_id, actor):
    """A room's reports, newest first (room admins)."""
    return moderation.room_reports(actor, room_id, **query)


@bp.patch("/reports/<report_id>")
@bp.doc(security=BEARER)
@login_required(action="resolve_report")
@bp.arguments(ResolveIn)
@bp.response(200, ReportOut)
def resolve(data, report_id, actor):
    """Close an open report as `resolved` or `dismissed` (its room's admins, site admins)."""
    return moderation.resolve_report(actor, report_id, data["status"])


@bp.get("/admin/reports")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.arguments(ReportsQuery, location="query")
@bp.response(200, ReportsOut)
def all_reports(query, actor):
    """Every report, newest first (site admins)."""
    return moderation.all_reports(actor, **query)


@bp.get("/admin/users")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.arguments(AdminUsersQuery, location="query")
@bp.response(200, AdminUsersOut)
def admin_users(query, actor):
    """Users by username or display-name prefix, deactivated ones too (site admins)."""
    return {"users": moderation.find_users(actor, query["q"], query["limit"])}


@bp.post("/admin/users/<user_id>/deactivate")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.response(200, UserOut)
def deactivate(user_id, actor):
    """Deactivate a user: every session ends, their sockets close on every process."""
    return moderation.set_active(actor, user_id, active=False)


@bp.post("/admin/users/<user_id>/reactivate")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.response(200, UserOut)
def reactivate(user_id, actor):
    """Let a deactivated user sign in again."""
    return moderation.set_active(actor, user_id, active=True)


@bp.delete("/admin/messages/<message_id>")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.response(204)
def delete_message(message_id, actor):
    """Delete any message (site admins); a tombstone stays, as for any delete."""
    moderation.delete_any_message(actor, message_id)


@bp.get("/admin/audit")
@bp.doc(security=BEARER)
@login_required(action="site_admin")
@bp.arguments(PageQuery, location="query")
@bp.response(200, AuditOut)
def audit(query, actor):
    """Every moderation and admin action, newest first (site admins)."""
    return moderation.audit_log(actor, query["limit"], query["cursor"])
