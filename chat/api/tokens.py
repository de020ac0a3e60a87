"""flask-jwt-extended callbacks: revocation, user lookup, and errors in the envelope."""

from flask import request
from flask_jwt_extended import JWTManager

from chat.api.errorhandlers import error_response
from chat.errors import error_body
from chat.security import security_log
from chat.services import auth


def _unauthorized(message: str):
    security_log.info(
        "token refused",
        extra={
            "event": "auth_refused",
            "reason": message,
            "path": request.path,
            "remote": request.remote_addr,
        },
    )
    return error_response(401, error_body("unauthorized", message))


def init_jwt_callbacks(jwt: JWTManager) -> None:
    jwt.token_in_blocklist_loader(lambda header, payload: auth.is_revoked(payload))
    jwt.user_lookup_loader(lambda header, payload: auth.load_user(payload))
    # Tokens without an expiry are never accepted, even with a valid signature.
    jwt.token_verification_loader(lambda header, payload: "exp" in payload)
    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing or malformed token."))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token."))
    jwt.expired_token_loader(lambda header, payload: _unauthorized("Token has expired."))
    jwt.revoked_token_loader(lambda header, payload: _unauthorized("Token has been revoked."))
    jwt.user_lookup_error_loader(lambda header, payload: _unauthorized("Unknown user."))
    jwt.token_verification_failed_loader(lambda header, payload: _unauthorized("Invalid token."))
    jwt.needs_fresh_token_loader(lambda header, payload: _unauthorized("Fresh token required."))
