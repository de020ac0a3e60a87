"""REST blueprints; `register(app)` mounts them on the smorest Api."""

from flask import Flask

from chat import web
from chat.api import (
    auth,
    health,
    integrations,
    invites,
    messages,
    moderation,
    rooms,
    search,
    sync,
    users,
)
from chat.api.endpoint import api, api_token_user, nested_or_null
from chat.schemas.auth import LoginIn

BLUEPRINTS = [
    auth.bp,
    users.bp,
    rooms.bp,
    messages.bp,
    messages.threads_bp,
    messages.commands_bp,
    search.bp,
    moderation.bp,
    integrations.bp,
    sync.bp,
    invites.bp,
    invites.preview_bp,
]
# sign-in and invite previews: RATELIMIT_AUTH per address (chat.security)
STRICT_BLUEPRINTS = (auth.bp, invites.preview_bp)


def register(app: Flask) -> None:
    api.ma_plugin.converter.add_attribute_function(nested_or_null)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    # marshmallow cannot say "exactly one of username and email"; the document can
    api.spec.components.schema(
        "LoginIn",
        {"oneOf": [{"required": ["username"]}, {"required": ["email"]}]},
        schema=LoginIn,
    )
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
    app.extensions["api_token_user"] = api_token_user  # the rate limiter's key
