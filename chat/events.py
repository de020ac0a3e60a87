"""Domain events: what happened, after the write. `chat.live.publish` delivers them."""

from dataclasses import dataclass, field
from typing import ClassVar

from marshmallow import Schema

from chat.schemas import events as shapes


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class Event:
    """Base event: `name` is the Socket.IO event name ("" for none), `room_id` its room,
    `payload()` what sockets receive and `schema` its documentation."""

    name: ClassVar[str] = ""
    schema: ClassVar[type[Schema] | None] = None  # documents payload() (docs/asyncapi.yaml)
    skips_origin: ClassVar[bool] = False  # True: not sent to the socket that caused it
    # True: not sent to the users who blocked `user_id` (typing, presence, profile and
    # status: services/policy.sees)
    hidden_from_blockers: ClassVar[bool] = False
    room_id: str

    def payload(self) -> dict:
        raise NotImplementedError

    def channels(self) -> list[str]:
        """Socket.IO channels that receive the event (default: its room's)."""
        return [room_channel(self.room_id)]


@dataclass(frozen=True)
class MessageCreated(Event):
    name: ClassVar[str] = "message_received"
    schema: ClassVar[type[Schema] | None] = shapes.MessageReceivedOut
    message: dict = field(default_factory=dict)
    skips_origin: ClassVar[bool] = True  # the sending socket gets the ack instead
    room_type: str = ""  # public / private / direct, so listeners need not load the room

    def payload(self) -> dict:
        m = self.message
        return {"message": m, "sender": m["sender"], "timestamp": m["timestamp"]}


@dataclass(frozen=True)
class MessageUpdated(Event):
    name: ClassVar[str] = "message_updated"
    schema: ClassVar[type[Schema] | None] = shapes.MessageUpdatedOut
    message: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"message": self.message}


@dataclass(frozen=True)
class MessageDeleted(Event):
    name: ClassVar[str] = "message_deleted"
    schema: ClassVar[type[Schema] | None] = shapes.MessageDeletedOut
    message_id: str = ""

    def payload(self) -> dict:
        return {"messageId": self.message_id, "roomId": self.room_id}


@dataclass(frozen=True)
class MemberJoined(Event):
    """Carries what a client needs to update its room and online list without asking."""

    name: ClassVar[str] = "user_joined"
    schema: ClassVar[type[Schema] | None] = shapes.UserJoinedOut
    user_id: str = ""
    username: str = ""
    online: bool = False

    def payload(self) -> dict:
        return {
            "roomId": self.room_id,
            "userId": self.user_id,
            "username": self.username,
            "online": self.online,
        }


@dataclass(frozen=True)
class MemberLeft(Event):
    """A member left, was kicked or banned (`reason`): their sockets leave the channel."""

    name: ClassVar[str] = "user_left"
    schema: ClassVar[type[Schema] | None] = shapes.UserLeftOut
    user_id: str = ""
    reason: str = "left"

    def payload(self) -> dict:
        return {"roomId": self.room_id, "userId": self.user_id}


@dataclass(frozen=True)
class RoomUpdated(Event):
    name: ClassVar[str] = "room_updated"
    schema: ClassVar[type[Schema] | None] = shapes.RoomUpdatedOut
    room: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"room": self.room}


@dataclass(frozen=True)
class TypingChanged(Event):
    name: ClassVar[str] = "typing_indicator"
    schema: ClassVar[type[Schema] | None] = shapes.TypingOut
    user_id: str = ""
    username: str = ""
    is_typing: bool = False
    skips_origin: ClassVar[bool] = True  # not the typist's own socket
    hidden_from_blockers: ClassVar[bool] = True

    def payload(self) -> dict:
        return {
            "roomId": self.room_id,
            "userId": self.user_id,
            "username": self.username,
            "isTyping": self.is_typing,
        }


@dataclass(frozen=True)
class PresenceChanged(Event):
    """A user came online (first socket) or went offline (last socket gone)."""

    name: ClassVar[str] = "presence"
    schema: ClassVar[type[Schema] | None] = shapes.PresenceOut
    user_id: str = ""
    online: bool = False
    room_ids: tuple[str, ...] = ()
    skips_origin: ClassVar[bool] = True  # not the socket that just connected
    hidden_from_blockers: ClassVar[bool] = True
    username: str | None = None  # when online: clients add the user without asking
    # who blocked the user, when the publisher has just read them (a connect: its
    # user's document); None: looked up when the event is sent
    blocked_by: tuple[str, ...] | None = None

    def payload(self) -> dict:
        data = {"userId": self.user_id, "online": self.online}
        return {**data, "username": self.username} if self.username else data

    def channels(self) -> list[str]:
        return [room_channel(r) for r in self.room_ids]


@dataclass(frozen=True)
class UserUpdated(Event):
    """A user changed their profile: the rooms they are in (and their own sockets) get
    the new `user` (public fields only)."""

    name: ClassVar[str] = "user_updated"
    schema: ClassVar[type[Schema] | None] = shapes.UserUpdatedOut
    hidden_from_blockers: ClassVar[bool] = True  # their status: services/policy.sees
    user_id: str = ""
    user: dict = field(default_factory=dict)
    room_ids: tuple[str, ...] = ()

    def payload(self) -> dict:
        return {"user": self.user}

    def channels(self) -> list[str]:
        return [user_channel(self.user_id), *(room_channel(r) for r in self.room_ids)]


@dataclass(frozen=True)
class SessionRevoked(Event):
    """A login session ended (logout): its live sockets are disconnected."""

    user_id: str = ""
    session: str = ""


# State changes with no Socket.IO event of their own (name ""): `track_event` sees them.


@dataclass(frozen=True)
class RoomCreated(Event):
    """A room was created: by `user_id`, or on first use for a direct room (`room` holds
    its type and members)."""

    user_id: str = ""
    room: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RoleChanged(Event):
    """`user_id` was granted (or lost) `role` ("admin" or "owner") by `by`."""

    user_id: str = ""
    role: str = ""
    granted: bool = False
    by: str = ""


@dataclass(frozen=True)
class MemberUnbanned(Event):
    user_id: str = ""
    by: str = ""


@dataclass(frozen=True)
class ReadMarked(Event):
    """`user_id` has read their room up to `seq`."""

    user_id: str = ""
    seq: int = 0


@dataclass(frozen=True)
class ReadUpdated(Event):
    """A read receipt: how far `user_id` has read (coalesced to one a second per user
    and room; never sent for users who turned read receipts off)."""

    name: ClassVar[str] = "read_updated"
    schema: ClassVar[type[Schema] | None] = shapes.ReadUpdatedOut
    user_id: str = ""
    message_id: str = ""
    seq: int = 0
    at: str = ""

    def payload(self) -> dict:
        return {
            "roomId": self.room_id,
            "userId": self.user_id,
            "lastReadMessageId": self.message_id,
            "lastReadSeq": self.seq,
            "at": self.at,
        }


@dataclass(frozen=True)
class ThreadUpdated(Event):
    """A thread's summary changed (a reply, a deleted reply): the room gets it."""

    name: ClassVar[str] = "thread_updated"
    schema: ClassVar[type[Schema] | None] = shapes.ThreadUpdatedOut
    message_id: str = ""
    thread: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"roomId": self.room_id, "messageId": self.message_id, "thread": self.thread}


@dataclass(frozen=True)
class UserRegistered(Event):
    user_id: str = ""
    username: str = ""
