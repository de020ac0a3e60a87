"""Moderation and administration: the audit log, reports, site admins' powers.

Every moderation or admin action is appended to the audit log (`record`) by the
service that does it; nothing edits or deletes an entry. Site admins (`site_admin`,
set by `flask users set-admin`) read the log and every report, list, deactivate and
reactivate users, and delete any message; room admins see and resolve their rooms'
reports.
"""

from bson import ObjectId
from mongoengine.errors import NotUniqueError

from chat import wire
from chat.actor import Actor
from chat.errors import Conflict, Forbidden, NotFound, ValidationError
from chat.models import AuditEntry, Message, Report, Room, User
from chat.models.base import isoformat, utcnow
from chat.services import messages, policy, principals, users
from chat.services.audit import record
from chat.services.rooms import get_member_room, is_admin
from chat.store.documents import to_oid


def require_site_admin(actor: Actor) -> None:
    policy.authorize(actor, "site_admin")


def _page(query: dict, limit: int, cursor: str | None, collection) -> tuple[list[dict], str | None]:
    """Newest first by _id, `cursor` the last id of the previous page."""
    if cursor is not None:
        if not ObjectId.is_valid(cursor):
            raise ValidationError(fields={"cursor": ["Unknown cursor."]})
        query = {**query, "_id": {"$lt": ObjectId(cursor)}}
    docs = list(collection.find(query).sort("_id", -1).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, str(docs[-1]["_id"]) if more and docs else None


# --- the audit log ---


def audit_log(actor: Actor, limit: int, cursor: str | None) -> dict:
    require_site_admin(actor)
    docs, after = _page({}, limit, cursor, AuditEntry._get_collection())
    entries = [
        {
            "id": str(d["_id"]),
            "actorId": str(d["actor"]) if d.get("actor") else None,
            "action": d["action"],
            "target": d["target"],
            "roomId": str(d["room"]) if d.get("room") else None,
            "details": d.get("details", {}),
            "at": isoformat(d["at"]),
        }
        for d in docs
    ]
    return {"entries": entries, "nextCursor": after}


# --- reports ---


def report_message(actor: Actor, message_id: str, reason: str, note: str) -> dict:
    """Report a message you can read (404 otherwise); once per message (409 again)."""
    message = Message.objects(id=to_oid(message_id, "Message")).first()
    if message is None:
        raise NotFound("Message not found.")
    try:
        get_member_room(actor, message.room, "report_message")
    except (NotFound, Forbidden):
        raise NotFound("Message not found.") from None
    if message.deleted:
        raise Conflict("The message was deleted.")
    report = Report(message=message.id, room=message.room, reporter=actor.id, reason=reason,
                    note=note)  # fmt: skip
    try:
        report.save(force_insert=True)
    except NotUniqueError:
        raise Conflict("You already reported this message.") from None
    return _report(report)


def _report(r: Report) -> dict:
    return {
        "id": str(r.id),
        "messageId": str(r.message),
        "roomId": str(r.room),
        "reporterId": str(r.reporter),
        "reason": r.reason,
        "note": r.note,
        "status": r.status,
        "createdAt": isoformat(r.created_at),
        "resolvedBy": str(r.resolved_by) if r.resolved_by else None,
        "resolvedAt": isoformat(r.resolved_at),
    }


def room_reports(actor: Actor, room_id: str, status: str | None, limit: int, cursor) -> dict:
    """A room's reports, for its admins (members get 403, others 404)."""
    room = get_member_room(actor, room_id, "room_reports")
    return _reports({"room": room.id}, status, limit, cursor)


def all_reports(actor: Actor, status: str | None, limit: int, cursor) -> dict:
    require_site_admin(actor)
    return _reports({}, status, limit, cursor)


def _reports(query: dict, status: str | None, limit: int, cursor) -> dict:
    if status is not None:
        query = {**query, "status": status}
    docs, after = _page(query, limit, cursor, Report._get_collection())
    return {"reports": [_report(Report._from_son(d)) for d in docs], "nextCursor": after}


def resolve_report(actor: Actor, report_id: str, status: str) -> dict:
    """Close a report as resolved or dismissed: its room's admins, or site admins."""
    report = Report.objects(id=to_oid(report_id, "Report")).first()
    if report is None:
        raise NotFound("Report not found.")
    policy.authorize(actor, "resolve_report")
    if not actor.user.site_admin:
        room = Room.objects(id=report.room).first()
        if room is None or actor.id not in room.participants:
            raise NotFound("Report not found.")
        if not is_admin(actor, room):
            raise Forbidden("Room admins only.")
    now = utcnow()
    done = Report.objects(id=report.id, status="open").update_one(
        set__status=status, set__resolved_by=actor.id, set__resolved_at=now
    )
    if not done:
        raise Conflict("This report was already closed.")
    record(actor, f"report.{status}", report.id, room=report.room, message=str(report.message))
    report.reload()
    return _report(report)


# --- site admins ---


def find_users(actor: Actor, q: str, limit: int) -> list[dict]:
    """Users by username or display-name prefix, deactivated ones included, with email."""
    require_site_admin(actor)
    low = q.lower()
    high = low + "\U0010ffff"
    found: dict = {}
    for field in ("username_lower", "display_name_lower"):
        query = {f"{field}__gte": low, f"{field}__lt": high}
        for user in User.objects(**query).order_by(field).limit(limit):
            found.setdefault(user.id, user)
    ordered = sorted(found.values(), key=lambda u: u.username_lower)[:limit]
    return [{**wire.user(u), "email": u.email, "siteAdmin": u.site_admin} for u in ordered]


def set_active(actor: Actor, user_id: str, active: bool) -> dict:
    """Deactivate (every session ends, sockets close on every process) or reactivate."""
    require_site_admin(actor)
    target = User.objects(id=to_oid(user_id, "User")).first()
    if target is None:
        raise NotFound("User not found.")
    if target.id == actor.id and not active:
        raise Conflict("Deactivate your own account with DELETE /api/users/me.")
    if target.deactivated == (not active):
        return wire.user(target)
    if active:  # what ended with the account (sessions, tokens, bots) stays ended
        User.objects(id=target.id).update_one(set__deactivated=False)
        target.reload()
        users.announce(target)
    else:
        principals.end_account(target, "deactivated by a site admin")
    record(actor, "user.reactivate" if active else "user.deactivate", target.id)
    return wire.user(target)


def delete_any_message(actor: Actor, message_id: str) -> None:
    """A site admin deletes a message in any room (a tombstone, as the sender's own)."""
    require_site_admin(actor)
    message = Message.objects(id=to_oid(message_id, "Message")).first()
    if message is None:
        raise NotFound("Message not found.")
    if not message.deleted:
        messages.erase(message)
        record(actor, "message.delete", message.id, room=message.room, sender=str(message.sender))


def set_site_admin(username: str, granted: bool) -> User:
    """From the command line: make a user a site admin, or not."""
    user = users.find_by_username(username)
    User.objects(id=user.id).update_one(set__site_admin=granted)
    record(None, "site_admin.grant" if granted else "site_admin.revoke", user.id)
    user.reload()
    return user
