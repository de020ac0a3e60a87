"""The WSGI entry the Procfile names (`wsgi:app`): choose the async mode first, then build
the app. Installed with the package as the top-level module `wsgi`."""

from chat import asyncmode, logs
from chat.settings import read

asyncmode.setup()
logs.setup(read("LOG_LEVEL").upper(), read("ACCESS_LOG"))

from chat import create_app  # noqa: E402

app = create_app()
