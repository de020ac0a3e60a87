"""Flask adapter: every error leaves as {"error": {code, message, fields?}}."""

import logging

from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from chat.errors import ChatError, error_body, translate

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "validation_error",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}
JSON_METHODS = {"POST", "PUT", "PATCH"}


def error_response(status: int, body: dict, headers: dict | None = None):
    g.error_code = body["code"]  # the outcome label of chat_http_requests (metrics)
    response = jsonify({"error": body})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _flatten(messages) -> dict:
    """webargs messages {location: {field: [..]}} -> {field: [..]}."""
    fields = {}
    for location, errors in (messages or {}).items():
        if isinstance(errors, dict):
            for name, problems in errors.items():
                fields[name] = _as_strings(problems)
        else:
            fields[f"_{location}"] = _as_strings(errors)
    return fields


def _as_strings(problems) -> list[str]:
    if isinstance(problems, dict):
        return [f"{key}: {value}" for key, value in problems.items()]
    if isinstance(problems, list):
        return [p if isinstance(p, str) else str(p) for p in problems]
    return [str(problems)]


def http_error_response(error: HTTPException):
    """Translate a werkzeug HTTPException (routing, webargs, size limits)."""
    status = error.code or 500
    if status >= 500:
        return error_response(500, error_body("internal_error", "Internal server error."))
    data = getattr(error, "data", None) or {}
    fields = _flatten(data.get("messages")) if "messages" in data else None
    code = STATUS_CODES.get(status, "bad_request")
    message = "Invalid input." if fields else (error.description or error.name)
    return error_response(status, error_body(code, message, fields), data.get("headers"))


def chat_error_response(error: ChatError):
    headers = {}
    if hasattr(error, "retry_after"):  # (the second copy survives the rate limiter's rewrite)
        headers = {
            "Retry-After": str(error.retry_after),
            "X-Chat-Retry-After": str(error.retry_after),
        }
    return error_response(error.status, error.to_dict(), headers)


def unexpected_error_response(error: Exception):
    if isinstance(error, HTTPException):
        return http_error_response(error)
    known = translate(error)
    if known is not None:
        log.warning("%s on %s %s: %s", known.code, request.method, request.path, error)
        return chat_error_response(known)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, error_body("internal_error", "Internal server error."))


def require_json_body() -> None:
    """A body sent to a JSON endpoint must be JSON (views marked `accepts_multipart` opt out)."""
    if request.method not in JSON_METHODS or not request.content_length:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    view = getattr(view, "view_class", view)
    if request.mimetype == "multipart/form-data" and getattr(view, "accepts_multipart", False):
        return
    if not request.is_json:
        raise UnsupportedMediaType("Content-Type must be application/json.")


def register(app: Flask) -> None:
    app.register_error_handler(ChatError, chat_error_response)
    app.register_error_handler(Exception, unexpected_error_response)
    app.before_request(require_json_body)
