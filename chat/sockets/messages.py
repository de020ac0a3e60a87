"""Message events on /chat: send_message, edit_message, delete_message, sync."""

from chat import wire
from chat.schemas.events import MessageAck, MessageIdAck, SendAck
from chat.schemas.messages import (
    EditMessageEvent,
    MessageListOut,
    MessageRefEvent,
    SendMessageEvent,
    SyncEvent,
)
from chat.schemas.sync import SyncAllEvent, SyncOut
from chat.services import messages, slash
from chat.services.sync import sync as changes_since
from chat.sockets.handler import event


@event("send_message", SendMessageEvent, bucket="send", ack=SendAck, action="post_message")
def send_message(state, data):
    """Store, then ack {message}; the room (minus this socket) gets message_received. A
    slash command that posts nothing acks {command, text} instead."""
    sent = messages.send(state.actor, **data)
    if isinstance(sent, slash.Reply):
        return {"command": sent.command, "text": sent.text}
    return {"message": sent.wire}


@event("edit_message", EditMessageEvent, ack=MessageAck, action="edit_message")
def edit_message(state, data):
    """Edit your message; ack {message}; the room gets message_updated."""
    message = messages.edit_message(state.actor, data["message_id"], data["content"])
    return {"message": wire.message(message)}


@event("delete_message", MessageRefEvent, ack=MessageIdAck, action="delete_message")
def delete_message(state, data):
    """Delete a message (yours, or any as a room admin); the room gets message_deleted."""
    message = messages.delete_message(state.actor, data["message_id"])
    return {"messageId": str(message.id)}


@event("sync_all", SyncAllEvent, ack=SyncOut, action="sync")
def sync_all(state, data):
    """Every change in your rooms after the cursor `since` (as GET /api/sync)."""
    return changes_since(state.actor, data["since"], data["limit"])


@event("sync", SyncEvent, ack=MessageListOut, action="read_messages")
def sync(state, data):
    """What this client missed in a room, after its last seen message, in seq order."""
    page, more = messages.sync_messages(state.actor, **data)
    return wire.message_page(page, more)
