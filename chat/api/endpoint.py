"""Small helpers shared by the REST views."""

import json
from copy import deepcopy
from functools import wraps

import flask_smorest
from flask import request
from flask_jwt_extended import get_current_user, get_jwt
from marshmallow import fields as ma_fields
from webargs.flaskparser import FlaskParser

from chat.actor import Actor
from chat.api.errorhandlers import http_error_response
from chat.schemas.base import ErrorEnvelopeSchema
from chat.security import verify_access_token
from chat.services import policy, tokens

BEARER: list[dict[str, list]] = [{"bearerAuth": []}]


class ChatApi(flask_smorest.Api):
    """flask-smorest Api that answers every HTTP error with the contract's envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error):
        return http_error_response(error)

    def document_message_fields(self, added: dict) -> None:
        document_message_fields(self.spec, self.ma_plugin, added)


def nested_or_null(self, field, ret) -> dict:
    """A nested object that may be null is `{allOf: [ref], nullable: true}` (apispec's
    own anyOf with a second, empty object would let any object through)."""
    alternatives = ret.get("anyOf")
    if isinstance(field, ma_fields.Nested) and field.allow_none and alternatives:
        refs = [a for a in ret.pop("anyOf") if "$ref" in a]
        ret.update(allOf=refs, nullable=True)
    return {}


def document_message_fields(spec, ma_plugin, added: dict) -> None:
    """Add the fields plugins put on messages (their `message_fields`) to a document's
    MessageOut (the OpenAPI and the AsyncAPI documents), where the wire tests look for
    every key sent."""
    convert = ma_plugin.converter.field2property
    message = spec.components.schemas["MessageOut"]
    message["properties"].update({name: convert(f) for name, f in sorted(added.items())})


api = ChatApi()  # unbound; create_app attaches it


class StrictParser(FlaskParser):
    """Query strings obey the schema's `unknown=RAISE` too (webargs excludes by default),
    and any JSON the parser cannot take is the 400 of invalid JSON."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as exc:  # deep nesting; a 4,300+ digit number
            raise json.JSONDecodeError(type(exc).__name__, "(the body)", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint with the strict argument parser."""

    ARGUMENTS_PARSER = StrictParser()


def login_required(*, action: str):
    """Require a valid, unrevoked access token or API token, and admit the caller to
    `action` (the policy's name for what the view does: services/policy); the view
    gets `actor` (an Actor), and the service decides the action again, whole, once it
    has read what the action is on. The action is documented as `x-action` in the
    OpenAPI document (the authorization matrix test runs every operation by it)."""

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            policy.admit(actor, action)
            return fn(*args, actor=actor, **kwargs)

        wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))  # flask-smorest's
        wrapper._apidoc["manual_doc"] = {**wrapper._apidoc.get("manual_doc", {}), ACTION: action}
        return wrapper

    return decorate


ACTION = "x-action"


def current_actor() -> Actor:
    """The request's actor: an API token's (`Bearer cht_...`), or a session's (an
    unrevoked access token)."""
    token_actor = _api_token_actor()
    if token_actor is not None:
        return token_actor
    verify_access_token()  # the user itself, not flask-jwt-extended's proxy to it
    return Actor.session(get_current_user(), get_jwt()["sid"])


TOKEN_ACTOR = "chat.token_actor"  # in the request's environ: read once per request


def _api_token_actor() -> Actor | None:
    """The actor of the request's API token (None without one; raises for a bad one),
    authenticated once per request (the rate limiter asks first)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith(f"Bearer {tokens.PREFIX}"):
        return None
    if TOKEN_ACTOR not in request.environ:
        request.environ[TOKEN_ACTOR] = tokens.authenticate(header[7:])[0]
    return request.environ[TOKEN_ACTOR]


def api_token_user() -> str | None:
    """For the rate limiter (chat.security): the user id of a valid API token."""
    actor = _api_token_actor()
    return str(actor.id) if actor is not None else None
