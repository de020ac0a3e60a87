"""Flask CLI commands: `flask migrate`."""

import click
from flask import Flask

from chat.extensions import mongo_db
from chat.migrate import apply_migrations


@click.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations."""
    ran = apply_migrations(mongo_db())
    click.echo(f"applied: {', '.join(ran)}" if ran else "database is up to date")


def register(app: Flask) -> None:
    app.cli.add_command(migrate_command)
