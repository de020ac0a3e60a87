"""Accounts over REST: register, login, refresh, logout."""

import logging

from flask import current_app, request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from chat import wire
from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.extensions import socketio
from chat.schemas.auth import (
    AcceptedOut,
    AccessOut,
    EmailTokenIn,
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterIn,
    SessionListOut,
    SessionOut,
    UserOut,
)
from chat.services import auth, invites, principals, verification

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def _session(user) -> dict:
    device = request.headers.get("User-Agent", "")
    session = {"user": wire.user(user, private=True), **auth.issue_tokens(user, device)}
    return {**session, "deviceToken": auth.device_token(user)}


@bp.post("/register")
@bp.arguments(RegisterIn)
@bp.response(201, SessionOut)
def register(data):
    """Create an account and log in. REGISTRATION decides who may: anyone (`open`), only
    people with a valid `invite` (`invite`), nobody (`closed`: 403 `registration_closed`);
    an address outside ALLOWED_EMAIL_DOMAINS is refused (422). An invite's rooms are
    joined."""
    return _session(invites.register(**data))


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
    """Trade a refresh token (as Bearer) for new access and refresh tokens. A refresh
    token works once: presenting a spent one again ends its session (reuse detection)."""
    return auth.refresh(current_user, get_jwt())


@bp.post("/logout")
@bp.doc(security=BEARER)
@login_required(action="manage_sessions")
@bp.response(204)
def logout(actor):
    """Revoke the current session (access and refresh tokens)."""
    auth.logout(get_jwt())


@bp.post("/password")
@bp.doc(security=BEARER)
@login_required(action="manage_sessions")
@bp.arguments(PasswordChangeIn)
@bp.response(204)
def change_password(data, actor):
    """Change your password; every other session ends and its sockets close."""
    auth.change_password(actor, get_jwt(), data["current_password"], data["new_password"],
                         request.remote_addr)  # fmt: skip


@bp.get("/sessions")
@bp.doc(security=BEARER)
@login_required(action="manage_sessions")
@bp.response(200, SessionListOut)
def sessions(actor):
    """Your sessions (signed-in clients), the most recently used first."""
    return {"sessions": auth.sessions(actor, get_jwt()["sid"])}


@bp.delete("/sessions/<session_id>")
@bp.doc(security=BEARER)
@login_required(action="manage_sessions")
@bp.response(204)
def revoke_session(session_id, actor):
    """End one of your sessions: its tokens stop working and its sockets close."""
    auth.revoke_session(actor, session_id)


@bp.post("/password-reset")
@bp.arguments(PasswordResetIn)
@bp.response(202, AcceptedOut)
def password_reset(data):
    """Email a password-reset token to the account with this address. The answer is
    the same whether or not there is one."""
    app = current_app._get_current_object()
    socketio.start_background_task(_reset_later, app, data["email"])
    return {"message": "If an account has this address, an email is on its way."}


def _reset_later(app, email: str) -> None:
    """The lookup, the token and the email, after the answer: its timing is the same
    whether or not an account has the address."""
    with app.app_context():
        try:
            auth.request_password_reset(email)
        except Exception:  # nobody waits on it: logged
            log.exception("a password reset could not be prepared")


@bp.post("/password-reset/confirm")
@bp.arguments(PasswordResetConfirmIn)
@bp.response(204)
def password_reset_confirm(data):
    """Set a new password with an emailed token (it works once); every session, API
    token and bot token of the account ends."""
    principals.reset_password(data["token"], data["new_password"])


@bp.post("/verify-email")
@bp.doc(security=BEARER)
@login_required(action="verify_email")
@bp.response(202, AcceptedOut)
def verify_email(actor):
    """Email a token to your address (at most one a minute; none once it is verified).
    Password resets and notification emails only ever go to a verified address."""
    verification.send_check(actor)
    return {"message": "If your address is not verified yet, an email is on its way."}


@bp.post("/verify-email/confirm")
@bp.arguments(EmailTokenIn)
@bp.response(200, UserOut)
def verify_email_confirm(data):
    """Spend an emailed token (it works once, for 24 hours): your `user` with
    `emailVerified: true`; 422 for an unknown, used or expired token."""
    return wire.user(verification.confirm(data["token"]), private=True)
