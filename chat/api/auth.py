"""Accounts over REST: register, login, refresh, logout."""

from flask import request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from chat import wire
from chat.api.common import BEARER, Blueprint, login_required
from chat.schemas.auth import AccessOut, LoginIn, RegisterIn, SessionOut
from chat.services import auth

bp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def _session(user) -> dict:
    session = {"user": wire.user(user, private=True), **auth.issue_tokens(user)}
    return {**session, "deviceToken": auth.device_token(user)}


@bp.post("/register")
@bp.arguments(RegisterIn)
@bp.response(201, SessionOut)
def register(data):
    """Create an account and log in."""
    return _session(auth.register_user(**data))


@bp.post("/login")
@bp.arguments(LoginIn)
@bp.response(200, SessionOut)
def login(data):
    """Log in with a username or an email and a password.

    Failures slow down this client for this account, never the account everywhere:
    send the `deviceToken` of an earlier login to sign in while others are guessing.
    """
    return _session(auth.authenticate(**data, remote=request.remote_addr))


@bp.post("/refresh")
@bp.doc(security=BEARER)
@bp.response(200, AccessOut)
@jwt_required(refresh=True)
def refresh():
    """Trade a refresh token (as Bearer) for a new access token."""
    return {"accessToken": auth.refresh_access(current_user, get_jwt())}


@bp.post("/logout")
@bp.doc(security=BEARER)
@login_required
@bp.response(204)
def logout(actor):
    """Revoke the current session (access and refresh tokens)."""
    auth.logout(get_jwt())
