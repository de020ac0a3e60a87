"""Who acts: a person or a bot, and the credential they act with (a signed-in session,
an API token with its scopes and rooms, an incoming webhook). Every service takes an
`Actor`; the policy (`chat.services.policy`) decides from it, never from attributes
patched onto a user."""

from dataclasses import dataclass
from typing import Literal

from bson import ObjectId

from chat.models import User

Kind = Literal["session", "token", "webhook"]


@dataclass(frozen=True)
class Credential:
    """What the actor signed in with.

    `scopes` None: everything the user may do (a signed-in session). `rooms` None:
    every room the user may use; else only these (a room-limited token, a webhook).
    """

    kind: Kind
    id: str  # the session's sid, the token's id, the webhook's id
    scopes: frozenset[str] | None = None
    rooms: frozenset[ObjectId] | None = None

    @property
    def session(self) -> str:
        """The key its sockets are registered under (what ends them all at once)."""
        return self.id if self.kind == "session" else f"tok:{self.id}"

    def may_use(self, room_id: ObjectId) -> bool:
        return self.rooms is None or room_id in self.rooms


@dataclass(eq=False)
class Actor:
    """A principal acting through one credential."""

    user: User
    credential: Credential

    @property
    def id(self) -> ObjectId:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def bot(self) -> bool:
        return bool(self.user.bot)

    @classmethod
    def session(cls, user: User, sid: str) -> "Actor":
        return cls(user, Credential("session", sid))

    def __repr__(self) -> str:
        return f"Actor({self.user.username!r}, {self.credential.kind})"
