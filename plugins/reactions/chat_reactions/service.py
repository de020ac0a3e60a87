"""Reactions: one per (user, emoji, message), updated atomically in MongoDB.

They are the plugin's data, kept in the message's plugin slot `data.reactions`
({user, emoji, timestamp}, oldest first): one write changes them and records the
change (`reaction_updated`, synced with the message's state), and a deleted message's
tombstone drops them with the rest of its plugin data.
"""

import re
from dataclasses import dataclass, field
from typing import ClassVar

import emoji as emoji_db
import marshmallow as ma
from marshmallow import fields, validate

from chat.plugin_api import (
    Action,
    Actor,
    Conflict,
    Event,
    Message,
    Schema,
    ValidationError,
    change_message,
    get_message,
    isoformat,
    publish,
    utcnow,
)

# A reaction reaches the message's sender: a block of theirs stops it (and, in a direct
# room, any reaction). Taking one's own reaction back reaches no one.
ACTIONS = [
    Action("react", "messages:write", "member", contact="reaction", summary="react"),
    Action("unreact", "messages:write", "member", summary="take one's reaction back"),
]
MAX_PER_USER = 20  # distinct emoji one user may put on one message
SHORTCODE = re.compile(r"^:[a-z0-9_+-]{1,32}:$")
FIELD = "data.reactions"  # where a message keeps its reactions


class ReactionOut(Schema):
    user = fields.String(required=True)
    emoji = fields.String(required=True)
    timestamp = fields.String(required=True)


class ReactionUpdatedOut(Schema):
    messageId = fields.String(required=True)
    roomId = fields.String(required=True)
    reactions = fields.List(fields.Nested(ReactionOut), required=True)


@dataclass(frozen=True)
class ReactionUpdated(Event):
    name: ClassVar[str] = "reaction_updated"
    schema: ClassVar[type[Schema] | None] = ReactionUpdatedOut
    message_id: str = ""
    reactions: list = field(default_factory=list)

    def payload(self) -> dict:
        return {"messageId": self.message_id, "roomId": self.room_id, "reactions": self.reactions}


def is_emoji(value: str) -> bool:
    """One emoji of Unicode's recommended set (skin tones, ZWJ sequences, flags and
    keycaps included) or a :shortcode:; never text, several emoji, or invisible tags."""
    return bool(SHORTCODE.match(value)) or emoji_db.is_emoji(value)


def validate_emoji(value: str) -> str:
    if not is_emoji(value):
        raise ValidationError("Not an emoji.", fields={"emoji": ["Not a known emoji."]})
    return value


def _schema_emoji(value: str) -> None:
    if not is_emoji(value):
        raise ma.ValidationError("Not a known emoji.")


# The regex gives the document the shape (a :shortcode: or non-ASCII); the set is is_emoji's.
EMOJI_FIELD = [
    validate.Length(min=1, max=64),
    validate.Regexp(r"^(:[a-z0-9_+-]{1,32}:|[#*0-9]?[^\x00-\x7f]+)$", error="Not an emoji."),
    _schema_emoji,
]


def stored(message: Message) -> list[dict]:
    """The message's reactions as kept: [{user, emoji, timestamp}], oldest first."""
    return list(message.data.get("reactions") or [])


def reactions(message: Message) -> list[dict]:
    """The message's reactions on the wire, oldest first."""
    return [
        {"user": str(r["user"]), "emoji": r["emoji"], "timestamp": isoformat(r["timestamp"])}
        for r in stored(message)
    ]


def _changed(message: Message) -> Message:
    message.reload()
    event = ReactionUpdated(
        room_id=str(message.room),
        message_id=str(message.id),
        reactions=reactions(message),
    )
    publish(event)
    return message


def add_reaction(actor: Actor, message_id: str, emoji: str) -> Message:
    """React (idempotent). Members only; not on deleted messages.

    Raises:
        NotFound / Forbidden: not a member. Conflict: deleted message or too many.
        ValidationError: not an emoji.
    """
    message, _room = get_message(actor, message_id, "react", reaches_sender=True)
    emoji = validate_emoji(emoji)
    if message.deleted:
        raise Conflict("The message was deleted.")
    mine = [r for r in stored(message) if r["user"] == actor.id]
    if any(r["emoji"] == emoji for r in mine):
        return _changed(message)
    if len(mine) >= MAX_PER_USER:
        raise Conflict(f"At most {MAX_PER_USER} different reactions per message.")
    # The filter makes (user, emoji) unique even when two requests race.
    reaction = {"user": actor.id, "emoji": emoji}
    change_message(
        message,
        "reaction_updated",
        {"$push": {FIELD: {**reaction, "timestamp": utcnow()}}},
        where={FIELD: {"$not": {"$elemMatch": reaction}}},
    )
    return _changed(message)


def remove_reaction(actor: Actor, message_id: str, emoji: str) -> Message:
    """Take your reaction back (idempotent)."""
    message, _room = get_message(actor, message_id, "unreact")
    pull = {"$pull": {FIELD: {"user": actor.id, "emoji": emoji}}}
    change_message(message, "reaction_updated", pull, live_only=False)
    return _changed(message)


def counts(message: Message) -> dict[str, int]:
    """Reactions per emoji, in order of first use."""
    tally: dict[str, int] = {}
    for reaction in stored(message):
        tally[reaction["emoji"]] = tally.get(reaction["emoji"], 0) + 1
    return tally
