"""Messages over REST: send, history, edit, delete, pins, edit history."""

from chat import wire
from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.messages import (
    CommandReplyOut,
    CommandsOut,
    HistoryOut,
    HistoryQuery,
    MessageEditIn,
    MessageIn,
    MessageListOut,
    MessageOut,
    ThreadsOut,
    ThreadsQuery,
)
from chat.services import messages, slash, threads

bp = Blueprint("messages", __name__, url_prefix="/api/messages", description="Messages")
commands_bp = Blueprint("commands", __name__, url_prefix="/api/commands", description="Messages")


@commands_bp.get("")
@commands_bp.doc(security=BEARER)
@login_required(action="list_commands")
@commands_bp.response(200, CommandsOut)
def list_commands(actor):
    """The slash commands a message may start with (built-ins and plugins')."""
    return {"commands": slash.listed()}


@bp.post("")
@bp.doc(security=BEARER)
@login_required(action="post_message")
@bp.arguments(MessageIn)
@bp.response(201, MessageOut)
@bp.alt_response(200, schema=MessageOut, description="A retry: the stored message.")
@bp.alt_response(202, schema=CommandReplyOut, description="A slash command's answer.")
def post_message(data, actor):
    """Send a message (idempotent by clientId); broadcast as `message_received`. Text
    starting with `/name` runs a slash command (`GET /api/commands`): what it posts is
    answered as a message, what it says to you alone as 202 `{command, text}`."""
    sent = messages.send(actor, **data)
    if isinstance(sent, slash.Reply):
        return {"command": sent.command, "text": sent.text}, 202
    return sent.wire, 201 if sent.created else 200


@bp.get("/<room_id>")
@bp.doc(security=BEARER)
@login_required(action="read_messages")
@bp.arguments(HistoryQuery, location="query")
@bp.response(200, MessageListOut)
def list_messages(query, room_id, actor):
    """History, oldest first, paged by message-id cursors."""
    page, more = messages.list_messages(actor, room_id, **query)
    return wire.message_page(page, more)


@bp.patch("/<message_id>")
@bp.doc(security=BEARER)
@login_required(action="edit_message")
@bp.arguments(MessageEditIn)
@bp.response(200, MessageOut)
def edit_message(data, message_id, actor):
    """Edit your own message."""
    return wire.message(messages.edit_message(actor, message_id, data["content"]))


@bp.delete("/<message_id>")
@bp.doc(security=BEARER)
@login_required(action="delete_message")
@bp.response(204)
def delete_message(message_id, actor):
    """Delete a message (sender or room admin); a tombstone stays in history."""
    messages.delete_message(actor, message_id)


@bp.get("/<message_id>/thread")
@bp.doc(security=BEARER)
@login_required(action="read_messages")
@bp.arguments(HistoryQuery, location="query")
@bp.response(200, MessageListOut)
def thread(query, message_id, actor):
    """The replies in a message's thread, oldest first, paged by reply-id cursors."""
    page, more = messages.thread(actor, message_id, **query)
    return wire.message_page(page, more)


@bp.get("/<message_id>/history")
@bp.doc(security=BEARER)
@login_required(action="read_messages")
@bp.response(200, HistoryOut)
def message_history(message_id, actor):
    """Every version of a message, oldest first, the current one last (members of its
    room only; a deleted message keeps none)."""
    return {"versions": messages.message_history(actor, message_id)}


@bp.put("/<message_id>/pin")
@bp.doc(security=BEARER)
@login_required(action="pin_message")
@bp.response(200, MessageOut)
def pin(message_id, actor):
    """Pin a message (room admins, or members when the room's `membersCanPin`)."""
    return wire.message(messages.pin_message(actor, message_id, pinned=True))


@bp.delete("/<message_id>/pin")
@bp.doc(security=BEARER)
@login_required(action="pin_message")
@bp.response(200, MessageOut)
def unpin(message_id, actor):
    """Unpin a message (who may pin it may unpin it)."""
    return wire.message(messages.pin_message(actor, message_id, pinned=False))


threads_bp = Blueprint("threads", __name__, url_prefix="/api/threads", description="Messages")


@threads_bp.get("")
@threads_bp.doc(security=BEARER)
@login_required(action="list_threads")
@threads_bp.arguments(ThreadsQuery, location="query")
@threads_bp.response(200, ThreadsOut)
def my_threads(query, actor):
    """The threads you wrote in or were mentioned in, the most recently active first,
    each with its top-level message and your unread count (others' replies past the
    last one you marked read with `mark_read`)."""
    return threads.my_threads(actor, query["limit"], query["cursor"])
