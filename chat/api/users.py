"""Users over REST: the caller's own profile."""

from chat import wire
from chat.api.common import BEARER, Blueprint, login_required
from chat.schemas.auth import OnlineQuery, OnlineUsersOut, UserOut
from chat.services import presence, users
from chat.services.rooms import get_member_room

bp = Blueprint("users", __name__, url_prefix="/api/users", description="Users")


@bp.get("/me")
@bp.doc(security=BEARER)
@login_required
@bp.response(200, UserOut)
def me(actor):
    """The caller's profile, with their email."""
    return wire.user(actor, private=True)


@bp.get("/online")
@bp.doc(security=BEARER)
@login_required
@bp.arguments(OnlineQuery, location="query")
@bp.response(200, OnlineUsersOut)
def online(query, actor):
    """Online users in a room you are in, or among everyone you share a room with."""
    room = get_member_room(actor, query["roomId"]) if query.get("roomId") else None
    users = presence.online_users(actor, room)
    return {"users": [{**wire.user(u), "online": True} for u in users]}


@bp.get("/by-username/<username>")
@bp.doc(security=BEARER)
@login_required
@bp.response(200, UserOut)
def by_username(username, actor):
    """Find a user by exact username (case-insensitive), e.g. to invite them."""
    return wire.user(users.find_by_username(username))
