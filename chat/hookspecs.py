"""Every plugin hook, typed and documented. Hooks are called with keyword arguments;
an implementation may accept any subset of a hook's arguments. Hooks may gain
arguments in later versions but never lose one.
"""

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Flask
    from flask_socketio import SocketIO

    from chat.events import Event
    from chat.models import Message, Room, User

hookspec = pluggy.HookspecMarker("chat")
hookimpl = pluggy.HookimplMarker("chat")


@hookspec
def register_blueprints(app: "Flask") -> list | None:
    """Add REST endpoints. Runs once while the app is built (set up in `startup`).

    Args:
        app: the Flask application being built.
    Returns:
        a list of blueprints. flask-smorest blueprints join the OpenAPI
        document; plain Flask blueprints are registered as they are.
    """


@hookspec
def register_socket_events(app: "Flask", socketio: "SocketIO", namespace: str) -> None:
    """Add Socket.IO event handlers. Runs once while the app is built.

    Use `chat.sockets.handler.event(name, schema)` inside this hook so handlers get
    the token check, schema validation, ack envelope and metrics of the core ones.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        socketio: the app's Flask-SocketIO extension.
        namespace: the namespace of the chat events ("/chat").
    """


@hookspec
def register_commands(app: "Flask", cli: "click.Group") -> None:
    """Add `flask` CLI commands. Runs once while the app is built.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        cli: the app's click group (`app.cli`); call `cli.add_command(...)`.
    """


@hookspec
def register_slash_commands(app: "Flask") -> list | None:
    """Add slash commands: a message starting with `/name` runs one instead of being
    posted. Asked each time commands are listed or run (`GET /api/commands`, a send).

    Args:
        app: the application (every hook gets it; no `current_app` needed).
    Returns:
        A list of `chat.plugin_api.SlashCommand(name, description, usage, run)`, or
        None. `run(actor, room, args)` is called with the sender (a member of `room`)
        and the text after the name; it returns `SlashCommand`'s `Reply(post=...)` to
        post a message, `Reply(text=...)` to answer the sender alone, or raises a
        ChatError (a 4xx for the sender). The first command of a name wins: the core's
        built-ins come last, so a plugin may replace one.
    """


@hookspec
def message_changes(app: "Flask") -> list | None:
    """Name the kinds of change a plugin makes to messages with
    `chat.plugin_api.change_message(message, kind, update)` (a reaction, a vote), so
    that sync delivers them once, in order, with the message's current state as their
    data, like the core's `message_updated`. Called once, when the app is built.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
    Returns:
        A list of kind names (`"reaction_updated"`), or None. A change of a kind no
        loaded plugin names (its plugin switched off) is passed over by sync.
    """


@hookspec
def message_types(app: "Flask") -> list | None:
    """Name the types of message a plugin posts with `chat.plugin_api.post_message(...,
    message_type=...)` (a poll), beside the core's `text`, `image` and `file`. Clients
    cannot send them as a plain message (a send's `messageType` is one of the core's);
    the plugin keeps their data in the message's `data` and shows it with
    `extend_message`. Called once, when the app is built.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
    Returns:
        A list of type names (`"poll"`), or None.
    """


@hookspec
def register_actions(app: "Flask") -> list | None:
    """Name the operations a plugin's routes, socket events and commands perform, for
    the one policy (`chat.services.policy`) to decide. Called once, when the app is
    built, before any request.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
    Returns:
        A list of `chat.plugin_api.Action(name, scope, role, contact, ...)`, or None.
        A name the core already uses keeps the core's meaning. Decide an action with
        `chat.plugin_api.authorize(actor, name, room=..., target=..., resource=...)`
        and name it on a route with `login_required(action=name)` or on a socket
        event with `socket_event(..., action=name)`.
    """


@hookspec
def startup(app: "Flask") -> None:
    """Runs at the end of `create_app`, after every other hook has registered: the
    place for a plugin's setup (read its settings, check them, open its storage).

    Args:
        app: the built application (push `app.app_context()` to use the database).
    """


@hookspec
def validate_message(
    app: "Flask", actor: "User", room: "Room", draft: dict[str, Any], is_edit: bool
) -> None:
    """Check or change a message before it is stored (new messages and edits).

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        actor: the sender (or editor).
        room: the room the message is in (read-only: sends share one copy).
        draft: `{"content", "message_type", "data"}`; change it in place to
            transform the message (`data` is a dict for plugin-owned fields).
        is_edit: True when an existing message's content is being edited.
    Raises:
        chat.errors.ChatError (e.g. ValidationError, Forbidden): rejects the
        message with that error's code; nothing is stored. Any other exception
        is logged and ignored, so a broken plugin never blocks sending.
    """


@hookspec
def extend_message(app: "Flask", message: "Message") -> dict[str, Any] | None:
    """Add plugin fields to the serialized message (REST, acks and broadcasts alike).

    Runs isolated: an implementation that raises is logged and skipped.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        message: the stored message (its `data` dict holds plugin-owned fields).
    Returns:
        camelCase keys to merge into the message object, or None.
    """


@hookspec
def message_fields(app: "Flask") -> dict[str, Any] | None:
    """Document the fields this plugin's `extend_message` adds to messages.

    They join the message schema of the OpenAPI document (`/api/openapi.json`) and of
    the socket protocol's AsyncAPI document, which tests check against what the server
    sends: a plugin field that is not declared here fails them.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
    Returns:
        camelCase key -> marshmallow field (e.g. `fields.Integer()`), or None.
    """


@hookspec
def track_event(app: "Flask", event: "Event") -> None:
    """React to something that happened (a message stored, a member left, ...).

    Called after the write and after the realtime broadcast, in the background:
    each implementation runs isolated, so a slow or failing plugin never delays
    or breaks the action. Errors are logged; calls and durations are in /metrics.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        event: a `chat.events.Event` dataclass (see `chat/events.py`).
    """


@hookspec
def permission_allowed(
    app: "Flask", actor: "User", action: str, room: "Room | None", resource: Any
) -> bool | None:
    """Allow or deny an action beyond the built-in rules.

    Asked for every action the policy decides (`chat.services.policy.actions()`: the
    core's, such as "create_room", "update_room", "join_room", "post_message",
    "delete_message", "pin_message", and those plugins register). Only the action's
    rule is open to it: the account, the token's scopes and rooms, the role the
    action needs in the room and blocks are decided first, and no answer lifts them.

    Args:
        app: the application (every hook gets it; no `current_app` needed).
        actor: who wants to act.
        action: the action's name.
        room: the room concerned, if any.
        resource: the object acted on (a Message for "delete_message"), or None.
    Returns:
        False to deny (any False wins), True to allow what the built-in rule
        would refuse, None for no opinion.
    """
