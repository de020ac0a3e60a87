"""Reactions over Socket.IO: add_reaction / remove_reaction {messageId, emoji}."""

from chat.plugin_api import (
    EventSchema,
    MessageAck,
    ObjectIdField,
    Text,
    serialize_message,
    socket_event,
)

from . import service
from .service import EMOJI_FIELD


class ReactionEvent(EventSchema):
    message_id = ObjectIdField(data_key="messageId", required=True)
    emoji = Text(required=True, validate=EMOJI_FIELD)


def register() -> None:
    @socket_event("add_reaction", ReactionEvent, ack=MessageAck, action="react")
    def add_reaction(state, data):
        """React with an emoji; ack {message}; the room gets reaction_updated."""
        message = service.add_reaction(state.actor, data["message_id"], data["emoji"])
        return {"message": serialize_message(message)}

    @socket_event("remove_reaction", ReactionEvent, ack=MessageAck, action="unreact")
    def remove_reaction(state, data):
        """Take your reaction back; ack {message}; the room gets reaction_updated."""
        message = service.remove_reaction(state.actor, data["message_id"], data["emoji"])
        return {"message": serialize_message(message)}
