"""chat: a real-time chat backend (Flask, Flask-SocketIO, MongoDB, pluggy)."""

from flask import Flask

from chat import api, cli, metrics, sockets
from chat.api import errorhandlers
from chat.api.tokens import init_jwt_callbacks
from chat.extensions import api as smorest_api
from chat.extensions import init_mongo, init_redis, jwt
from chat.services import presence
from config import check_production, load_config


def create_app(config: dict | str | None = None, **overrides) -> Flask:
    """Build the application.

    Args:
        config: an environment name (`development`, `testing`, `production`),
            a dict of settings layered over the environment's, or None for
            CHAT_ENV / NODE_ENV.
        overrides: settings that win over everything else (tests use these).
    """
    app = Flask(__name__, static_folder=None)
    settings = load_config(config if isinstance(config, str) else None)
    if isinstance(config, dict):
        settings.update(config)
    settings.update(overrides)
    if settings["ENV_NAME"] == "production":
        check_production(settings)
    app.config.update(settings)

    init_mongo(app)
    init_redis(app)
    metrics.init_app(app)
    presence.init_app(app)
    jwt.init_app(app)
    init_jwt_callbacks(jwt)
    smorest_api.init_app(app)
    errorhandlers.register(app)
    api.register(app)
    sockets.init_app(app)
    cli.register(app)
    return app
