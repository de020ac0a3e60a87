"""Built-in `flask` commands (registered through the default plugin): migrate, plugins."""

import json

import click
from flask import current_app

from chat.extensions import mongo_db
from chat.migrate import apply_migrations
from chat.plugin_manager import loaded_plugins


@click.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations."""
    ran = apply_migrations(mongo_db())
    click.echo(f"applied: {', '.join(ran)}" if ran else "database is up to date")


@click.group("plugins")
def plugins_group() -> None:
    """Inspect plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """Show the loaded plugins and the hooks each implements."""
    rows = loaded_plugins(current_app.extensions["plugins"])
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<28} {', '.join(row['hooks'])}")


@click.group("users")
def users_group() -> None:
    """Manage users."""


@users_group.command("set-admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the site admin role away instead.")
def set_admin(username: str, revoke: bool) -> None:
    """Make USERNAME a site admin (recorded in the audit log)."""
    from chat.errors import NotFound
    from chat.services.moderation import set_site_admin

    try:
        user = set_site_admin(username, granted=not revoke)
    except NotFound:
        raise click.ClickException(f"no user named {username!r}") from None
    click.echo(f"{user.username} is {'now' if user.site_admin else 'no longer'} a site admin")


@users_group.command("create")
@click.argument("username")
@click.argument("email")
@click.password_option(help="Asked for when not given (twice).")
@click.option("--admin", is_flag=True, help="Make the account a site admin too.")
def create_user(username: str, email: str, password: str, admin: bool) -> None:
    """Make an account whatever REGISTRATION says (the first admin of a closed or
    invite-only server): the same checks of the name, address and password as sign-up."""
    from marshmallow import ValidationError as Invalid

    from chat.errors import Conflict
    from chat.schemas.auth import RegisterIn
    from chat.services import auth
    from chat.services.moderation import set_site_admin

    try:
        data = RegisterIn().load({"username": username, "email": email, "password": password})
        user = auth.register_user(data["username"], data["email"], data["password"])
    except Invalid as exc:
        raise click.ClickException(f"invalid: {exc.messages}") from None
    except Conflict as exc:
        raise click.ClickException(exc.message) from None
    if admin:
        set_site_admin(user.username, granted=True)
    click.echo(f"created {user.username}{' (site admin)' if admin else ''}")


@click.command("export")
@click.option("--room", "room_id", required=True, help="The room's id.")
def export_command(room_id: str) -> None:
    """Write a room as JSON lines to standard output: room, members, messages."""
    from bson import ObjectId

    from chat.models import Room
    from chat.services.export import lines

    room = Room.objects(id=room_id).first() if ObjectId.is_valid(room_id) else None
    if room is None:
        raise click.ClickException(f"no room {room_id!r}")
    for line in lines(room):
        click.echo(line, nl=False)


COMMANDS = [migrate_command, plugins_group, users_group, export_command]
