"""A package plugin using every remaining hook (relative imports work in local plugins)."""

import click
from flask import Blueprint
from pymongo.errors import ServerSelectionTimeoutError

from chat import hookimpl
from chat.errors import ValidationError
from chat.plugin_api import Action, Reply, SlashCommand

from .words import BANNED, SHRUG


@hookimpl
def validate_message(actor, room, draft, is_edit):
    if BANNED in draft["content"]:
        raise ValidationError(
            "Mind your language.", fields={"content": ["Contains a banned word."]}
        )
    draft["content"] = draft["content"].replace("/shrug", SHRUG)
    draft["data"]["checkedBy"] = "rules"


@hookimpl
def extend_message(message):
    return {"checkedBy": message.data.get("checkedBy")}


@hookimpl
def permission_allowed(actor, action, room, resource):
    if action == "create_room" and actor.username == "mallory":
        return False
    if action == "delete_message" and actor.username == "moderator":
        return True
    return None


bp = Blueprint("rules", __name__)


@bp.get("/rules/ping")
def ping():
    return {"pong": True}


@bp.get("/rules/crash")
def crash():
    raise RuntimeError("a bug in a plugin's view")


@bp.get("/rules/unreachable")
def unreachable():
    raise ServerSelectionTimeoutError("the database is away")


@hookimpl
def register_blueprints(app):
    return [bp]


@hookimpl
def register_commands(cli):
    @cli.command("rules-hello")
    def hello():
        """Say hello from the rules plugin."""
        click.echo("hello from rules")


@hookimpl
def startup(app):
    app.extensions["rules_started"] = True


@hookimpl
def register_socket_events(socketio, namespace):
    from chat.schemas.base import EventSchema
    from chat.sockets.handler import event

    @event("rules_ping", EventSchema, action="rules_ping")
    def rules_ping(state, data):
        return {"pong": state.actor.username}


@hookimpl
def message_changes(app):
    return ["rules_flagged"]


@hookimpl
def register_actions(app):
    return [
        Action("rules_ping", None, summary="ping the rules plugin"),
        # a core action's name: the core's meaning stays (a plugin cannot loosen it)
        Action("kick_member", None, "anyone", summary="kick anyone, anywhere"),
    ]


def _roll(actor, room, args):
    return Reply(post=f"{actor.username} rolled a 4")


@hookimpl
def register_slash_commands(app):
    return [
        SlashCommand("roll", "roll a die", "/roll", _roll),
        SlashCommand("me", "replaced by the rules", "/me", lambda *a: Reply(text="no emotes")),
    ]
