"""Rooms over REST: list, create, update, join/leave, members, roles, direct rooms."""

from flask import Response, stream_with_context

from chat import wire
from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.base import PageQuerySchema
from chat.schemas.events import ReceiptsOut
from chat.schemas.messages import PinsOut
from chat.schemas.rooms import (
    ReadIn,
    ReadOut,
    RoomCreateIn,
    RoomListOut,
    RoomOut,
    RoomUpdateIn,
    UserIdIn,
)
from chat.services import export as export_service
from chat.services import messages, rooms

bp = Blueprint("rooms", __name__, url_prefix="/api/rooms", description="Rooms")
ROOM = "/<room_id>"


@bp.get("")
@bp.doc(security=BEARER)
@login_required(action="list_rooms")
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, RoomListOut)
def list_rooms(query, actor):
    """Public rooms and the caller's rooms, each with the caller's unread count."""
    page, next_cursor = rooms.list_rooms(actor, query["limit"], query["cursor"])
    unread = rooms.unread_counts(actor, page)
    return {
        "rooms": [wire.room(r, unread.get(r.id)) for r in page],
        "nextCursor": next_cursor,
    }


@bp.post("")
@bp.doc(security=BEARER)
@login_required(action="create_room")
@bp.arguments(RoomCreateIn)
@bp.response(201, RoomOut)
def create_room(data, actor):
    """Create a room; the caller becomes its owner and admin."""
    return wire.room(rooms.create_room(actor, **data))


@bp.post("/direct")
@bp.doc(security=BEARER)
@login_required(action="open_direct")
@bp.arguments(UserIdIn)
@bp.response(200, RoomOut)
def open_direct(data, actor):
    """The direct room with another user (the same room every time)."""
    return wire.room(rooms.open_direct_room(actor, data["userId"]))


@bp.get(ROOM)
@bp.doc(security=BEARER)
@login_required(action="read_room")
@bp.response(200, RoomOut)
def get_room(room_id, actor):
    """One room: public, or one the caller belongs to."""
    return wire.room(rooms.get_member_room(actor, room_id, "read_room"))


@bp.put(ROOM)
@bp.doc(security=BEARER)
@login_required(action="update_room")
@bp.arguments(RoomUpdateIn)
@bp.response(200, RoomOut)
def update_room(data, room_id, actor):
    """Change name, description or settings (admins only)."""
    return wire.room(rooms.update_room(actor, room_id, data))


@bp.post(f"{ROOM}/join")
@bp.doc(security=BEARER)
@login_required(action="join_room")
@bp.response(200, RoomOut)
def join_room(room_id, actor):
    """Join a public room."""
    return wire.room(rooms.join_room(actor, room_id))


@bp.post(f"{ROOM}/leave")
@bp.doc(security=BEARER)
@login_required(action="leave_room")
@bp.response(204)
def leave_room(room_id, actor):
    """Leave a room (the last owner must hand over first)."""
    rooms.leave_room(actor, room_id)


@bp.post(f"{ROOM}/members")
@bp.doc(security=BEARER)
@login_required(action="invite_member")
@bp.arguments(UserIdIn)
@bp.response(200, RoomOut)
def invite_member(data, room_id, actor):
    """Add a user to the room (admins only)."""
    return wire.room(rooms.invite_member(actor, room_id, data["userId"]))


@bp.delete(f"{ROOM}/members/<user_id>")
@bp.doc(security=BEARER)
@login_required(action="kick_member")
@bp.response(200, RoomOut)
def remove_member(room_id, user_id, actor):
    """Kick a member (admins; only owners kick admins; owners cannot be kicked)."""
    return wire.room(rooms.remove_member(actor, room_id, user_id))


@bp.post(f"{ROOM}/bans")
@bp.doc(security=BEARER)
@login_required(action="ban_member")
@bp.arguments(UserIdIn)
@bp.response(200, RoomOut)
def ban_member(data, room_id, actor):
    """Remove a user and keep them out (admins only)."""
    return wire.room(rooms.ban_member(actor, room_id, data["userId"]))


@bp.delete(f"{ROOM}/bans/<user_id>")
@bp.doc(security=BEARER)
@login_required(action="unban_member")
@bp.response(200, RoomOut)
def unban_member(room_id, user_id, actor):
    """Lift a ban (admins only)."""
    return wire.room(rooms.unban_member(actor, room_id, user_id))


def _role_views(role: str) -> None:
    @bp.put(f"{ROOM}/{role}s/<user_id>", endpoint=f"grant_{role}")
    @bp.doc(security=BEARER, summary=f"Make a member {role} (owners only).")
    @login_required(action=f"set_{role}")
    @bp.response(200, RoomOut)
    def grant(room_id, user_id, actor):
        return wire.room(rooms.set_role(actor, room_id, user_id, role, granted=True))

    @bp.delete(f"{ROOM}/{role}s/<user_id>", endpoint=f"revoke_{role}")
    @bp.doc(security=BEARER, summary=f"Take the {role} role away (owners only).")
    @login_required(action=f"set_{role}")
    @bp.response(200, RoomOut)
    def revoke(room_id, user_id, actor):
        return wire.room(rooms.set_role(actor, room_id, user_id, role, granted=False))


_role_views("admin")
_role_views("owner")


@bp.get(f"{ROOM}/pins")
@bp.doc(security=BEARER)
@login_required(action="read_messages")
@bp.response(200, PinsOut)
def pins(room_id, actor):
    """The room's pinned messages, the newest pin first."""
    return {"messages": [wire.message(m) for m in messages.pins(actor, room_id)]}


@bp.get(f"{ROOM}/reads")
@bp.doc(security=BEARER)
@login_required(action="read_receipts")
@bp.response(200, ReceiptsOut)
def read_receipts(room_id, actor):
    """How far each member has read, furthest first (members who turned read receipts
    off are left out)."""
    return {"reads": rooms.read_receipts(actor, room_id)}


@bp.get(f"{ROOM}/export")
@bp.doc(
    security=BEARER,
    responses={"200": {"description": "JSON lines", "content": {"application/x-ndjson": {}}}},
)
@login_required(action="export_room")
def export(room_id, actor):
    """The room as JSON lines, streamed (owners): `{type: room}`, then `{type: member}`
    for each member, then `{type: message, message, history}` for each message in seq
    order (tombstones included)."""
    room, stream = export_service.for_owner(actor, room_id)
    response = Response(stream_with_context(stream), mimetype="application/x-ndjson")
    name = f"room-{room.id}.jsonl"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post(f"{ROOM}/read")
@bp.doc(security=BEARER)
@login_required(action="mark_read")
@bp.arguments(ReadIn)
@bp.response(200, ReadOut)
def mark_read(data, room_id, actor):
    """Move the caller's read pointer to a message; returns the unread count."""
    return {"unreadCount": rooms.mark_read(actor, room_id, data["messageId"])}
