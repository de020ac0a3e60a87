"""Reactions: one per (user, emoji, message), updated atomically in MongoDB."""

import re
from dataclasses import dataclass, field
from typing import ClassVar

from marshmallow import validate

from chat import realtime
from chat.errors import Conflict, ValidationError
from chat.events import Event
from chat.models import Message, User
from chat.models.base import isoformat, utcnow
from chat.services.messages import get_message

# What the schema can say (a :shortcode: or non-ASCII text); validate_emoji says the rest.
EMOJI_FIELD = [
    validate.Length(min=1, max=64),
    validate.Regexp(r"^(:[a-z0-9_+-]{1,32}:|[#*0-9]?[^\x00-\x7f]+)$", error="Not an emoji."),
]
MAX_PER_USER = 20  # distinct emoji one user may put on one message
SHORTCODE = re.compile(r"^:[a-z0-9_+-]{1,32}:$")
JOINERS = {0x200D, 0xFE0F, 0x20E3}  # zero-width joiner, emoji presentation, keycap
PICTOGRAPHIC = [
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0x2190, 0x21FF),
    (0x25A0, 0x25FF),
    (0x2900, 0x297F),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x00A9, 0x00AE),
    (0x203C, 0x2049),
    (0x2122, 0x2139),
    (0xE0020, 0xE007F),  # tag sequences (flags of regions)
]


@dataclass(frozen=True)
class ReactionUpdated(Event):
    name: ClassVar[str] = "reaction_updated"
    message_id: str = ""
    reactions: list = field(default_factory=list)

    def payload(self) -> dict:
        return {"messageId": self.message_id, "roomId": self.room_id, "reactions": self.reactions}


def _pictographic(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in PICTOGRAPHIC)


def validate_emoji(emoji: str) -> str:
    """A single emoji (ZWJ sequences, skin tones and flags included) or a :shortcode:."""
    if SHORTCODE.match(emoji):
        return emoji
    chars = list(emoji)
    keycap = len(chars) >= 2 and chars[0] in "#*0123456789" and chars[-1] == "\u20e3"
    body = chars[1:] if keycap else chars
    ok = 0 < len(chars) <= 12 and (keycap or any(_pictographic(c) for c in body))
    if not ok or not all(_pictographic(c) or ord(c) in JOINERS for c in body):
        raise ValidationError("Not an emoji.", fields={"emoji": ["Not a known emoji."]})
    return emoji


def _serialized(message: Message) -> list[dict]:
    return [
        {"user": str(r.user), "emoji": r.emoji, "timestamp": isoformat(r.timestamp)}
        for r in message.reactions
    ]


def _changed(message: Message) -> Message:
    message.reload()
    event = ReactionUpdated(
        room_id=str(message.room), message_id=str(message.id), reactions=_serialized(message)
    )
    realtime.publish(event)
    return message


def add_reaction(actor: User, message_id: str, emoji: str) -> Message:
    """React (idempotent). Members only; not on deleted messages.

    Raises:
        NotFound / Forbidden: not a member. Conflict: deleted message or too many.
        ValidationError: not an emoji.
    """
    message, _room = get_message(actor, message_id)
    emoji = validate_emoji(emoji)
    if message.deleted:
        raise Conflict("The message was deleted.")
    mine = [r for r in message.reactions if r.user == actor.id]
    if any(r.emoji == emoji for r in mine):
        return _changed(message)
    if len(mine) >= MAX_PER_USER:
        raise Conflict(f"At most {MAX_PER_USER} different reactions per message.")
    # The filter makes (user, emoji) unique even when two requests race.
    reaction = {"user": actor.id, "emoji": emoji}
    Message._get_collection().update_one(
        {"_id": message.id, "deleted": False, "reactions": {"$not": {"$elemMatch": reaction}}},
        {"$push": {"reactions": {**reaction, "timestamp": utcnow()}}},
    )
    return _changed(message)


def remove_reaction(actor: User, message_id: str, emoji: str) -> Message:
    """Take your reaction back (idempotent)."""
    message, _room = get_message(actor, message_id)
    Message._get_collection().update_one(
        {"_id": message.id}, {"$pull": {"reactions": {"user": actor.id, "emoji": emoji}}}
    )
    return _changed(message)


def counts(message: Message) -> dict[str, int]:
    """Reactions per emoji, in order of first use."""
    tally: dict[str, int] = {}
    for reaction in message.reactions:
        tally[reaction.emoji] = tally.get(reaction.emoji, 0) + 1
    return tally
