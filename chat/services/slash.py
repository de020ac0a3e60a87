"""Slash commands: a message starting with `/name` runs a command instead of being
posted as typed. The built-ins (`/me`, `/shrug`, `/topic`, `/invite`, `/kick`, `/help`)
come from the core's plugin, others from plugins, all through the
`register_slash_commands` hook. A command either posts a message (what it returns as
`post`) or answers the caller alone (`text`). `//text` posts `/text` as a message.

Arguments are text, never code or queries: a command parses them itself (a username
must look like one), and every action goes through the service that checks who may do
it, as from any other route. Each command names the policy's action it performs (that
of its REST twin): the caller's token scopes and rooms apply to it as there.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chat import plugin_manager
from chat.actor import Actor
from chat.errors import NotFound, ValidationError
from chat.models import Room, User
from chat.services import policy
from chat.services.rooms import invite_member, remove_member, update_room

NAME = re.compile(r"^/([a-z][a-z0-9_-]{0,31})(?:\s+(.*))?$", re.S)
USERNAME_ARG = re.compile(r"^@?([A-Za-z0-9_.-]{3,32})$")


@dataclass(frozen=True)
class Reply:
    """What a command did: a message to post (`post`: content, and `data` stored with
    it), or a text for the caller only (`text`)."""

    text: str = ""
    post: str | None = None
    data: dict = field(default_factory=dict)
    command: str = ""  # set by `run`: the command's name


@dataclass(frozen=True)
class SlashCommand:
    """A command: `run(actor, room, args)` returns a Reply or raises a ChatError."""

    name: str
    description: str
    usage: str
    run: Callable[[Actor, Room, str], Reply] = field(repr=False)
    action: str = "post_message"  # the policy's name for what it does


def registered() -> dict[str, SlashCommand]:
    """Every command by name (plugins may add more; the first of a name wins)."""
    found: dict[str, SlashCommand] = {}
    for commands in plugin_manager.call("register_slash_commands"):
        for command in commands or []:
            found.setdefault(command.name, command)
    return dict(sorted(found.items()))


def listed() -> list[dict]:
    return [
        {"name": c.name, "description": c.description, "usage": c.usage}
        for c in registered().values()
    ]


def parse(content: str) -> tuple[str, str] | None:
    """(name, arguments) of a command message, None for an ordinary one (`//x` too)."""
    if not content.startswith("/") or content.startswith("//"):
        return None
    match = NAME.match(content.strip())
    if match is None:
        raise _unknown(content.split()[0] if content.split() else "/")
    return match[1], (match[2] or "").strip()


def run(actor: Actor, room: Room, name: str, args: str) -> Reply:
    """Run command `name`. Raises ValidationError for an unknown one (listing the
    known), and whatever the command's own checks raise."""
    command = registered().get(name)
    if command is None:
        raise _unknown(f"/{name}")
    policy.admit(actor, command.action)
    return replace(command.run(actor, room, args), command=name)


def _unknown(what: str) -> ValidationError:
    known = ", ".join(f"/{n}" for n in registered())
    return ValidationError(fields={"content": [f"Unknown command {what[:40]}. Known: {known}."]})


def user_argument(args: str) -> User:
    """The user an argument (`@name` or `name`) names. Raises ValidationError."""
    match = USERNAME_ARG.match(args)
    if match is None:
        raise ValidationError(fields={"content": ["Name one user: @username."]})
    user = User.objects(username_lower=match[1].lower(), deactivated=False).first()
    if user is None:
        raise NotFound("No such user.")
    return user


# --- the built-ins (registered by chat.default_plugins) ---


def _me(actor: Actor, room: Room, args: str) -> Reply:
    if not args:
        raise ValidationError(fields={"content": ["Say what you do: /me waves."]})
    return Reply(post=args, data={"command": "me"})


def _shrug(actor: Actor, room: Room, args: str) -> Reply:
    return Reply(post=f"{args} ¯\\_(ツ)_/¯".strip())


def _topic(actor: Actor, room: Room, args: str) -> Reply:
    if len(args) > TOPIC_MAX:
        raise ValidationError(fields={"content": [f"A topic is at most {TOPIC_MAX} characters."]})
    update_room(actor, str(room.id), {"description": args})
    return Reply(text="Topic set." if args else "Topic cleared.")


def _invite(actor: Actor, room: Room, args: str) -> Reply:
    user = user_argument(args)
    invite_member(actor, str(room.id), str(user.id))
    return Reply(text=f"@{user.username} is in the room.")


def _kick(actor: Actor, room: Room, args: str) -> Reply:
    user = user_argument(args)
    remove_member(actor, str(room.id), str(user.id))
    return Reply(text=f"@{user.username} was removed.")


def _help(actor: Actor, room: Room, args: str) -> Reply:
    lines = [f"{c.usage}: {c.description}" for c in registered().values()]
    return Reply(text="\n".join(lines))


TOPIC_MAX = 1000  # a room's description
BUILT_IN = [
    SlashCommand("help", "list the commands", "/help", _help, "list_commands"),
    SlashCommand(
        "invite", "add someone to this room (admins)", "/invite @user", _invite, "invite_member"
    ),
    SlashCommand(
        "kick", "remove someone from this room (admins)", "/kick @user", _kick, "kick_member"
    ),
    SlashCommand("me", "say what you are doing", "/me text", _me),
    SlashCommand("shrug", "append ¯\\_(ツ)_/¯", "/shrug [text]", _shrug),
    SlashCommand("topic", "set this room's topic (admins)", "/topic [text]", _topic, "update_room"),
]
