"""What plugins may use: the stable surface (docs/plugins.md). The built-in plugins
import nothing else from the core (tests/test_plugin_surface.py); a name that leaves
this module is a breaking change in the CHANGELOG.
"""

from chat.actor import Actor
from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.errors import (
    ChatError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationError,
)
from chat.events import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberUnbanned,
    MessageCreated,
    MessageDeleted,
    MessageUpdated,
    PresenceChanged,
    ReadMarked,
    RoleChanged,
    RoomCreated,
    RoomUpdated,
    SessionRevoked,
    TypingChanged,
    UserRegistered,
    room_channel,
    user_channel,
)
from chat.extensions import socketio
from chat.hookspecs import hookimpl
from chat.live.publish import publish
from chat.mail import send as send_mail
from chat.mail import send_email
from chat.models import Message, Room, User
from chat.models.base import NO_AUTO_INDEX, isoformat, utcnow
from chat.plugin_manager import plugin_config
from chat.schemas.auth import UserOut
from chat.schemas.base import EventSchema, ObjectIdField, OutSchema, Schema, StrictBoolean, Text
from chat.schemas.events import MessageAck
from chat.schemas.messages import MessageOut
from chat.services.messages import Posted, get_message, post_message
from chat.services.policy import Action, authorize, reaches, sees
from chat.services.presence import online_ids
from chat.services.push import notify as push_to_user
from chat.services.rooms import get_member_room, get_room
from chat.services.slash import Reply, SlashCommand, user_argument
from chat.services.subscriptions import deliver_to as deliver_webhook
from chat.services.threads import members as thread_members
from chat.services.users import set_avatar
from chat.settings import ConfigError
from chat.sockets.handler import event as socket_event
from chat.store.changelog import change_message
from chat.wire import message as serialize_message
from chat.wire import user as serialize_user


def spawn(fn, *args, **kwargs):
    """Run `fn` in the background (a green thread under gevent); nothing waits for it."""
    return socketio.start_background_task(fn, *args, **kwargs)


__all__ = [
    "BEARER",
    "NO_AUTO_INDEX",
    "Action",
    "Actor",
    "Blueprint",
    "ChatError",
    "ConfigError",
    "Conflict",
    "Event",
    "EventSchema",
    "Forbidden",
    "MemberJoined",
    "MemberLeft",
    "MemberUnbanned",
    "Message",
    "MessageAck",
    "MessageCreated",
    "MessageDeleted",
    "MessageOut",
    "MessageUpdated",
    "NotFound",
    "ObjectIdField",
    "OutSchema",
    "PayloadTooLarge",
    "Posted",
    "PresenceChanged",
    "RateLimited",
    "ReadMarked",
    "Reply",
    "RoleChanged",
    "Room",
    "RoomCreated",
    "RoomUpdated",
    "Schema",
    "SessionRevoked",
    "SlashCommand",
    "StrictBoolean",
    "Text",
    "TypingChanged",
    "Unauthorized",
    "User",
    "UserOut",
    "UserRegistered",
    "ValidationError",
    "authorize",
    "change_message",
    "deliver_webhook",
    "get_member_room",
    "get_message",
    "get_room",
    "hookimpl",
    "isoformat",
    "login_required",
    "online_ids",
    "plugin_config",
    "post_message",
    "publish",
    "push_to_user",
    "reaches",
    "room_channel",
    "sees",
    "send_email",
    "send_mail",
    "serialize_message",
    "serialize_user",
    "set_avatar",
    "socket_event",
    "spawn",
    "thread_members",
    "user_argument",
    "user_channel",
    "utcnow",
]
