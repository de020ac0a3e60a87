"""The core's own plugin: built-in behaviour registered through the public hooks (its
CLI and slash commands, the permission rules any other plugin's answer overrides, and
the rooms' outgoing webhooks, fed with every event)."""

from chat import cli as commands
from chat.hookspecs import hookimpl
from chat.services import commands as slash
from chat.services import subscriptions
from chat.services.rooms import is_admin

ALLOWED_TO_MEMBERS = {"create_room", "join_room", "post_message"}


@hookimpl
def register_commands(cli):
    for command in commands.COMMANDS:
        cli.add_command(command)


@hookimpl
def permission_allowed(actor, action, room, resource):
    """The core's rules, asked when no other plugin answered (plugin_manager.permission):
    anyone may create rooms, join public ones and post where they are a member (the
    services check membership first); room admins edit rooms; a message is deleted by
    its sender or a room admin. Other actions are not the core's to decide."""
    if action in ALLOWED_TO_MEMBERS:
        return True
    if action == "update_room":
        return is_admin(actor, room)
    if action == "delete_message":
        return resource.sender == actor.id or is_admin(actor, room)
    return None


@hookimpl
def track_event(event):
    """Each event a room's subscriptions asked for becomes a stored delivery."""
    subscriptions.enqueue(event)


@hookimpl
def register_slash_commands(app):
    return slash.BUILT_IN
