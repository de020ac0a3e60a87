"""The core's own plugin: built-in behaviour registered through the public hooks (its
CLI and slash commands, the permission rules any other plugin's answer overrides, and
the rooms' outgoing webhooks, fed with every event)."""

from chat.cli import COMMANDS as CLI_COMMANDS
from chat.hookspecs import hookimpl
from chat.services import policy, slash, subscriptions


@hookimpl
def register_commands(cli):
    for command in CLI_COMMANDS:
        cli.add_command(command)


@hookimpl
def permission_allowed(actor, action, room, resource):
    """The core's rules (services/policy: admins edit rooms, the sender or an admin
    deletes a message, ...), asked when no other plugin answered. Roles, scopes and
    blocks are not rules: no plugin's answer lifts them."""
    return policy.core_rule(actor, action, room, resource)


@hookimpl
def track_event(event):
    """Each event a room's subscriptions asked for becomes a stored delivery."""
    subscriptions.enqueue(event)


@hookimpl
def register_slash_commands(app):
    return slash.BUILT_IN
