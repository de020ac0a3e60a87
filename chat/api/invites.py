"""Invite links over REST: made, listed and revoked by signed-in people (a token makes
none); previewed by anyone holding one (rate limited as sign-in is)."""

from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.invites import InviteIn, InvitePreviewOut, InvitesOut, NewInviteOut
from chat.services import invites

bp = Blueprint("invites", __name__, url_prefix="/api/invites", description="Invite links")
# The preview needs no account: RATELIMIT_AUTH per address, as sign-in (chat.security).
preview_bp = Blueprint("invite_preview", __name__, url_prefix="/api/invites")


@bp.post("")
@bp.doc(security=BEARER)
@login_required(action="create_invite")
@bp.arguments(InviteIn)
@bp.response(201, NewInviteOut)
def create_invite(data, actor):
    """A new invite link: up to `maxUses` people register with it (when REGISTRATION is
    `invite`, only they may) and join `rooms`. Room admins invite to their rooms; an
    invite to no room is for site admins. The token is in this response only."""
    return invites.create_invite(actor, data["rooms"], data["max_uses"], data["expires_in"])


@bp.get("")
@bp.doc(security=BEARER)
@login_required(action="manage_invites")
@bp.response(200, InvitesOut)
def list_invites(actor):
    """Your live invites, newest first (a site admin's: everyone's); never their tokens."""
    return {"invites": invites.list_invites(actor)}


@bp.delete("/<invite_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_invites")
@bp.response(204)
def revoke_invite(invite_id, actor):
    """Revoke an invite of yours (a site admin: anyone's): its link stops working."""
    invites.revoke_invite(actor, invite_id)


@preview_bp.get("/preview/<string(minlength=16, maxlength=64):token>")
@preview_bp.response(200, InvitePreviewOut)
def preview(token):
    """What an invite leads to (the sign-up page shows it): 404 for an unknown, used
    up, expired or revoked invite, or one whose maker can no longer invite."""
    return invites.preview(token)
