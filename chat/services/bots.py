"""Bot accounts: users marked `bot`, made and owned by a person, who act through API
tokens only (a bot has no password). They join rooms and post like anyone else."""

from mongoengine import NotUniqueError

from chat import wire
from chat.actor import Actor
from chat.errors import Conflict, NotFound, ValidationError
from chat.events import UserRegistered
from chat.live.publish import publish
from chat.models import User
from chat.models.integration import SCOPES
from chat.services import policy, principals, tokens
from chat.store.documents import find_document, to_oid

MAX_BOTS = 20  # per owner
NO_PASSWORD = "!"  # never a valid argon2 hash: a bot cannot sign in


def create_bot(actor: Actor, username: str, display_name: str = "") -> dict:
    """A bot owned by the actor, with a first token of every scope.

    Returns:
        {user (bot: true), token}.
    Raises:
        InsufficientScope: tokens do not make bots. Conflict: the username is taken.
    """
    policy.authorize(actor, "manage_bots")
    if User.objects(bot_owner=actor.id, deactivated=False).count() >= MAX_BOTS:
        raise ValidationError(fields={"username": [f"At most {MAX_BOTS} bots."]})
    bot = User(
        username=username,
        username_lower=username.lower(),
        display_name=display_name,
        display_name_lower=display_name.lower(),
        password_hash=NO_PASSWORD,
        bot=True,
        bot_owner=actor.id,
    )
    try:
        bot.save(force_insert=True)
    except NotUniqueError:
        raise Conflict("That username is taken.", fields={"username": ["Taken."]}) from None
    publish(UserRegistered("", user_id=str(bot.id), username=bot.username))
    made = tokens.create_token(actor, "default", list(SCOPES), subject=bot)
    return {"user": wire.user(bot), "token": made["token"], "tokenId": made["id"]}


def list_bots(actor: Actor) -> list[dict]:
    """The actor's bots (deactivated ones too, marked)."""
    policy.authorize(actor, "manage_bots")
    return [wire.user(b) for b in User.objects(bot_owner=actor.id).order_by("id")]


def get_bot(actor: Actor, bot_id: str) -> User:
    """A bot of the actor's. Raises NotFound for anyone else's (or a person)."""
    policy.authorize(actor, "manage_bots")
    bot = find_document(User, {"_id": to_oid(bot_id, "Bot"), "bot": True, "bot_owner": actor.id})
    if bot is None:
        raise NotFound("Bot not found.")
    return bot


def delete_bot(actor: Actor, bot_id: str) -> None:
    """Deactivate a bot: its tokens stop working and its sockets close everywhere; its
    messages stay."""
    principals.end_bot(get_bot(actor, bot_id))
