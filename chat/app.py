"""The application factory."""

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from chat import api, metrics, plugin_manager, security, sockets
from chat.api import errorhandlers
from chat.api.endpoint import api as smorest_api
from chat.api.tokens import init_jwt_callbacks
from chat.extensions import init_mongo, init_redis, jwt, socketio
from chat.live import limits, registry, roomcache
from chat.live.publish import NAMESPACE
from chat.models.message import MESSAGE_TYPES
from chat.services import policy
from chat.settings import check_development, check_production, load_config


def create_app(config: dict | str | None = None, **overrides) -> Flask:
    """Build the application. One app per process.

    Some state is the process's, not the app's, on purpose: the Socket.IO server and
    its sockets (`extensions.socketio`: one listening server per process, and gunicorn
    runs one worker per process), MongoEngine's connection, the group commit and the
    combined reads (`store.commit`, `store.combine`: they batch what concurrent
    requests of the process do), the room cache and the seq cache (they hold what the
    process knows of the database). A second `create_app` in a process replaces the
    first's connections and handlers (the tests do this, against one database);
    serving two apps from one process is not supported. What is the app's lives in
    `app.extensions` (plugins, metrics, Redis, limits, presence).

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
    elif settings["ENV_NAME"] == "development":
        check_development(settings)
    app.config.update(settings)

    init_mongo(app)
    init_redis(app)
    metrics.init_app(app)
    registry.init_app(app)
    roomcache.init_app(app)
    limits.init_app(app)
    jwt.init_app(app)
    init_jwt_callbacks(jwt)
    smorest_api.init_app(app)
    errorhandlers.register(app)
    api.register(app)
    security.init_app(app, strict=api.STRICT_BLUEPRINTS)
    sockets.init_app(app)
    _load_plugins(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies (Heroku's router: 1), the client's address and
    scheme come from the X-Forwarded-For/-Proto entries those hops appended; entries
    a client wrote itself, further left, are ignored. Wraps everything, sockets too."""
    hops = app.config["PROXY_HOPS"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _load_plugins(app: Flask) -> None:
    """Find plugins, then let them add endpoints, socket events and commands."""
    pm = app.extensions["plugins"] = plugin_manager.build(app)
    for actions in pm.hook.register_actions(app=app):
        policy.register(app, actions)
    kinds = pm.hook.message_changes(app=app)
    app.extensions["message_changes"] = frozenset(k for named in kinds for k in named or ())
    types = [t for named in pm.hook.message_types(app=app) for t in named or ()]
    app.extensions["message_types"] = frozenset((*MESSAGE_TYPES, *types))
    for blueprints in pm.hook.register_blueprints(app=app):
        for bp in blueprints:
            if isinstance(bp, SmorestBlueprint):
                smorest_api.register_blueprint(bp)
            else:
                app.register_blueprint(bp)
    pm.hook.register_socket_events(app=app, socketio=socketio, namespace=NAMESPACE)
    pm.hook.register_commands(app=app, cli=app.cli)
    pm.hook.startup(app=app)
    added: dict = {}
    for declared in pm.hook.message_fields(app=app):
        added.update(declared)
    app.extensions["message_fields"] = added
    smorest_api.document_message_fields(added)
