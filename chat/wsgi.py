"""WSGI entry point (`chat.wsgi:app`): choose the async mode first, then build the app."""

from chat import asyncmode

asyncmode.setup()

from chat import create_app  # noqa: E402

app = create_app()
