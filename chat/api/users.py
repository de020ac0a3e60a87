"""Users over REST: the caller's own profile, the directory, presence."""

from flask import request

from chat import wire
from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.auth import OnlineQuery, OnlineUsersOut, PasswordIn, UserOut
from chat.schemas.users import ProfileIn, UserIdsQuery, UserListOut, UserSearchQuery
from chat.services import blocks, presence, principals, users
from chat.services.rooms import get_member_room

bp = Blueprint("users", __name__, url_prefix="/api/users", description="Users")


@bp.get("/me")
@bp.doc(security=BEARER)
@login_required(action="read_self")
@bp.response(200, UserOut)
def me(actor):
    """The caller's profile, with their email."""
    return wire.user(actor.user, private=True)


@bp.patch("/me")
@bp.doc(security=BEARER)
@login_required(action="update_self")
@bp.arguments(ProfileIn)
@bp.response(200, UserOut)
def update_me(data, actor):
    """Change your display name, status (null clears it) or settings; the rooms you are
    in get `user_updated`."""
    return wire.user(users.update_profile(actor, data), private=True)


@bp.delete("/me")
@bp.doc(security=BEARER)
@login_required(action="deactivate_self")
@bp.arguments(PasswordIn)
@bp.response(204)
def deactivate(data, actor):
    """Deactivate your account (your password confirms it): every session ends, your
    messages stay, and the account cannot sign in again."""
    principals.deactivate_self(actor, data["password"], request.remote_addr)


@bp.get("/me/blocks")
@bp.doc(security=BEARER)
@login_required(action="block_user")
@bp.response(200, UserListOut)
def my_blocks(actor):
    """The users you blocked."""
    return {"users": [wire.user(u) for u in blocks.blocked(actor)]}


@bp.put("/me/blocks/<user_id>")
@bp.doc(security=BEARER)
@login_required(action="block_user")
@bp.response(204)
def block(user_id, actor):
    """Block a user: they cannot open or write to a direct room with you, and their
    mentions, typing and presence do not reach you."""
    blocks.block(actor, user_id)


@bp.delete("/me/blocks/<user_id>")
@bp.doc(security=BEARER)
@login_required(action="block_user")
@bp.response(204)
def unblock(user_id, actor):
    """Unblock a user."""
    blocks.unblock(actor, user_id)


@bp.get("")
@bp.doc(security=BEARER)
@login_required(action="read_users")
@bp.arguments(UserIdsQuery, location="query")
@bp.response(200, UserListOut)
def batch(query, actor):
    """Users by id (`?ids=a,b,c`, up to 100), in that order; unknown ids are left out."""
    return {"users": [users.view(actor, u) for u in users.get_users(query["ids"])]}


@bp.get("/search")
@bp.doc(security=BEARER)
@login_required(action="read_users")
@bp.arguments(UserSearchQuery, location="query")
@bp.response(200, UserListOut)
def search(query, actor):
    """Active users whose username or display name starts with `q` (any case)."""
    return {"users": [users.view(actor, u) for u in users.search(query["q"], query["limit"])]}


@bp.get("/<user_id>")
@bp.doc(security=BEARER)
@login_required(action="read_users")
@bp.response(200, UserOut)
def get_user(user_id, actor):
    """Any user's public profile (404 for an unknown id)."""
    return users.view(actor, users.get_user(user_id))


@bp.get("/online")
@bp.doc(security=BEARER)
@login_required(action="read_users")
@bp.arguments(OnlineQuery, location="query")
@bp.response(200, OnlineUsersOut)
def online(query, actor):
    """Online users in a room you are in, or among everyone you share a room with."""
    room = get_member_room(actor, query["roomId"], "room_presence") if query.get("roomId") else None
    online = presence.online_users(actor, room)
    return {"users": [{**users.view(actor, u), "online": True} for u in online]}


@bp.get("/by-username/<username>")
@bp.doc(security=BEARER)
@login_required(action="read_users")
@bp.response(200, UserOut)
def by_username(username, actor):
    """Find a user by exact username (case-insensitive), e.g. to invite them."""
    return users.view(actor, users.find_by_username(username))
