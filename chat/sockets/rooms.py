"""Room events on /chat: join_room, leave_room, mark_read, typing_start, typing_stop."""

import time

from flask import current_app

from chat import wire
from chat.events import TypingChanged
from chat.extensions import socketio
from chat.live.publish import NAMESPACE, publish, room_channel
from chat.live.sockets import states, stop_typing
from chat.schemas.base import RoomEvent
from chat.schemas.events import RoomAck
from chat.schemas.rooms import MarkReadEvent, ReadOut
from chat.services import rooms
from chat.sockets.handler import event, rate_limit


@event("join_room", RoomEvent, ack=RoomAck, action="join_room")
def join_room(state, data):
    """Join a public room (or re-subscribe to one of yours); ack {room}."""
    room = rooms.join_room(state.actor, data["room_id"])
    socketio.server.enter_room(state.sid, room_channel(str(room.id)), namespace=NAMESPACE)
    return {"room": wire.room(room)}


@event("leave_room", RoomEvent, action="leave_room")
def leave_room(state, data):
    """Leave the room; every socket of the user stops receiving it."""
    rooms.leave_room(state.actor, data["room_id"])
    return {}


@event("mark_read", MarkReadEvent, ack=ReadOut, action="mark_read")
def mark_read(state, data):
    """Move your read pointer to a message; ack {unreadCount}; the room may get
    read_updated (at most one a second per reader)."""
    return {"unreadCount": rooms.mark_read(state.actor, data["room_id"], data["message_id"])}


@event("typing_start", RoomEvent, action="typing")
def typing_start(state, data):
    """Tell the room you are typing; it ends by itself after TYPING_TIMEOUT seconds."""
    rate_limit(state, state.typing_bucket.take())
    room_id = str(rooms.get_member_room(state.actor, data["room_id"], "typing", cached=True).id)
    already = room_id in state.typing
    state.typing[room_id] = time.time() + current_app.config["TYPING_TIMEOUT"]
    states().typing.add(state.sid)
    if not already:
        user = state.actor
        publish(TypingChanged(room_id, str(user.id), user.username, True))
    return {}


@event("typing_stop", RoomEvent, action="typing")
def typing_stop(state, data):
    """Stop the typing indicator at once."""
    rate_limit(state, state.typing_bucket.take())
    room_id = str(rooms.get_member_room(state.actor, data["room_id"], "typing", cached=True).id)
    stop_typing(state.sid, state, [room_id])
    return {}
