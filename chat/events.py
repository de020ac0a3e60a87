"""Domain events: what happened, after the write. `realtime.publish` delivers them."""

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base event: `name` is the Socket.IO event name, `room_id` the channel."""

    name: ClassVar[str] = ""
    room_id: str

    def payload(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class MessageCreated(Event):
    name: ClassVar[str] = "message_received"
    message: dict = field(default_factory=dict)
    skip_sid: str | None = None  # the sending socket does not get its own broadcast

    def payload(self) -> dict:
        m = self.message
        return {"message": m, "sender": m["sender"], "timestamp": m["timestamp"]}


@dataclass(frozen=True)
class MessageUpdated(Event):
    name: ClassVar[str] = "message_updated"
    message: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"message": self.message}


@dataclass(frozen=True)
class MessageDeleted(Event):
    name: ClassVar[str] = "message_deleted"
    message_id: str = ""

    def payload(self) -> dict:
        return {"messageId": self.message_id, "roomId": self.room_id}


@dataclass(frozen=True)
class MemberJoined(Event):
    name: ClassVar[str] = "user_joined"
    user_id: str = ""
    username: str = ""

    def payload(self) -> dict:
        return {"roomId": self.room_id, "userId": self.user_id, "username": self.username}


@dataclass(frozen=True)
class MemberLeft(Event):
    """A member left, was kicked or banned (`reason`): their sockets leave the channel."""

    name: ClassVar[str] = "user_left"
    user_id: str = ""
    reason: str = "left"

    def payload(self) -> dict:
        return {"roomId": self.room_id, "userId": self.user_id}


@dataclass(frozen=True)
class RoomUpdated(Event):
    name: ClassVar[str] = "room_updated"
    room: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"room": self.room}
