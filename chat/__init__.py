"""chat: a real-time chat backend (Flask, Flask-SocketIO, MongoDB, pluggy).

Importing the package is light (`chat.settings` and `chat.gunicorn_conf` are read before
the async mode is chosen); `create_app` imports the application when called.
"""

from chat.hookspecs import hookimpl


def create_app(config=None, **overrides):
    """Build the application: see `chat.app.create_app`."""
    from chat.app import create_app as build

    return build(config, **overrides)


__all__ = ["create_app", "hookimpl"]
