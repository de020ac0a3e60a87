"""Email verification: an address is used for password resets and notification emails
only once a token sent to it came back (`emailVerified`)."""

import logging
import secrets
from datetime import timedelta

from flask import current_app

from chat import mail
from chat.actor import Actor
from chat.errors import ValidationError
from chat.models import EmailCheck, User
from chat.models.base import utcnow
from chat.services import auth, policy

security_log = logging.getLogger("chat.security")
log = logging.getLogger(__name__)
HOURS = 24  # how long a verification token works
EVERY = 60  # seconds between verification emails to one account


def send_check(actor: Actor) -> None:
    """Email a token to the actor's address, unless it is verified already (or is
    another account's: never sent anything), or one went out within a minute."""
    policy.authorize(actor, "verify_email")
    user, config = actor.user, current_app.config
    if not user.email or user.email_verified:
        return
    if not config["SMTP_HOST"]:
        log.error("an email check was asked for, but SMTP_HOST is unset: no email sent")
        return
    if not auth.first_in_a_while(f"verify:{user.id}", EVERY):
        return
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=HOURS)
    EmailCheck(digest=auth.digest(token), user=user.id, email=user.email,
               expires_at=expires).save(force_insert=True)  # fmt: skip
    base = config["PUBLIC_URL"].rstrip("/")
    text = (
        f"Confirm that {user.email} is the address of {user.username}.\n\n"
        + (f"Open {base}/#verify-email={token}\n" if base else f"Your token: {token}\n")
        + f"\nIt works once, for {HOURS} hours. If it was not you, ignore this email.\n"
    )
    mail.send_later(config, user.email, "Confirm your email address", text)


def confirm(token: str) -> User:
    """Spend a token: its account's address is verified (if it is still the one the
    token was sent to).

    Raises:
        ValidationError: an unknown, used or expired token.
    """
    check = EmailCheck._get_collection().find_one_and_delete(
        {"_id": auth.digest(token), "expires_at": {"$gt": utcnow()}}
    )
    done = check and User.objects(id=check["user"], email=check["email"], deactivated=False)
    if not done or not done.update_one(set__email_verified=True):
        raise ValidationError(fields={"token": ["Unknown, used or expired token."]})
    EmailCheck.objects(user=check["user"]).delete()
    security_log.info(
        "email verified", extra={"event": "email_verified", "login": str(check["user"])}
    )
    return User.objects.get(id=check["user"])
