"""WSGI entry point (`chat.wsgi:app`): choose the async mode first, then build the app."""

from chat import asyncmode, logs
from chat.config import read

asyncmode.setup()
logs.setup(read("LOG_LEVEL").upper(), read("ACCESS_LOG"))

from chat import create_app  # noqa: E402

app = create_app()
