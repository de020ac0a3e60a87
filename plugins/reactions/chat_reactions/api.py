"""Reactions over REST."""

from chat.plugin_api import (
    BEARER,
    Blueprint,
    MessageOut,
    Schema,
    Text,
    login_required,
    serialize_message,
)

from . import service
from .service import EMOJI_FIELD

bp = Blueprint("reactions", __name__, url_prefix="/api/messages", description="Reactions")


class ReactionIn(Schema):
    emoji = Text(required=True, validate=EMOJI_FIELD)


@bp.post("/<message_id>/reactions")
@bp.doc(security=BEARER)
@login_required(action="react")
@bp.arguments(ReactionIn)
@bp.response(200, MessageOut)
def add_reaction(data, message_id, actor):
    """React to a message (once per emoji); the room gets reaction_updated."""
    return serialize_message(service.add_reaction(actor, message_id, data["emoji"]))


@bp.delete("/<message_id>/reactions/<emoji>")
@bp.doc(security=BEARER)
@login_required(action="unreact")
@bp.response(200, MessageOut)
def remove_reaction(message_id, emoji, actor):
    """Take your reaction back."""
    return serialize_message(service.remove_reaction(actor, message_id, emoji))
