"""The core's own plugin: built-in behaviour registered through the public hooks."""

from chat import cli as commands
from chat.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    for command in commands.COMMANDS:
        cli.add_command(command)
