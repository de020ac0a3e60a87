"""The one policy: every operation a principal can perform is a named `Action`, decided
here from the actor, the room, the person it reaches and the resource, in this order:

1. account: a deactivated person, or a bot whose owner is deactivated, is refused (401);
2. credential: an API token needs the action's scope, and a room-limited token (or a
   webhook) may reach only its rooms (403 `insufficient_scope`); actions without a
   scope are for signed-in sessions only;
3. relation: the room must be visible (404 for a private room one is not in), and the
   action's role held in it: member, admin or owner (403), or site admin;
4. blocks: an action that contacts a person (`contact`) is refused when that person
   blocked the actor: the other member of a direct room, a message's sender reacted
   to, someone invited (403);
5. rule: the plugins' `permission_allowed` may deny (any False) or allow (any True)
   what the action's core `rule` (admins only, the sender or an admin, ...) decides.

What one person may see of another (read pointers, presence, status, typing) is
decided by `sees`, and whether a delivery may reach a person (a mention, a reply's
notification, push, email) by `reaches`; REST, live events and sync all ask them.
docs/security.md holds the table `table()` makes (a test keeps them equal).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from flask import Flask, current_app

from chat.actor import Actor
from chat.errors import Forbidden, InsufficientScope, NotFound, Unauthorized
from chat.models import Room, User
from chat.plugin_manager import permission

ROLES = ("anyone", "visible", "member", "admin", "owner", "site_admin")
ROOM_ROLES = ("visible", "member", "admin", "owner")
Rule = Callable[[Actor, Room | None, Any], bool]


@dataclass(frozen=True)
class Action:
    """A named operation.

    Args:
        scope: the API-token scope it needs; None: signed-in sessions only.
        role: what the actor must be: anyone signed in, or in the room (`visible`:
            a public room or one they are in; `member`, `admin`, `owner`), or a site
            admin.
        contact: the kind of contact with another person (a block stops it).
        any_room: a room-limited token may do it although it reaches no room of its
            own (False for what makes rooms or reaches past them).
        rule: the core's extra condition, which plugins may override; `rule_text`
            is the refusal's message (and docs/security.md's words for it).
    """

    name: str
    scope: str | None
    role: str = "anyone"
    contact: str | None = None
    any_room: bool = True
    rule: Rule | None = field(default=None, compare=False, repr=False)
    rule_text: str = ""
    summary: str = ""


def _admin(actor: Actor, room: Room | None, _resource: Any) -> bool:
    return room is not None and actor.id in room.admins


def _sender_or_admin(actor: Actor, room: Room | None, message: Any) -> bool:
    return message.sender == actor.id or _admin(actor, room, None)


def _sender(actor: Actor, _room: Room | None, message: Any) -> bool:
    return message.sender == actor.id


def _pinner(actor: Actor, room: Room | None, _message: Any) -> bool:
    return room is not None and (actor.id in room.admins or room.settings.members_can_pin)


R, W = "rooms:read", "rooms:write"
MR, MW, UR = "messages:read", "messages:write", "users:read"
_ = Action
ADMINS_ONLY = "Only room admins can do that."
CORE: tuple[Action, ...] = (
    # rooms
    _("list_rooms", R, summary="list public rooms and one's own"),
    _("read_room", R, "visible", summary="a room's details"),
    _("create_room", W, any_room=False, summary="make a room"),
    _("update_room", W, "member", rule=_admin, rule_text=ADMINS_ONLY, summary="name, topic"),
    _("join_room", W, "visible", summary="join a public room"),
    _("leave_room", W, "member", summary="leave a room"),
    _("invite_member", W, "admin", contact="invite", summary="add someone to a room"),
    _("kick_member", W, "admin", summary="remove someone from a room"),
    _("ban_member", W, "admin", summary="ban someone from a room"),
    _("unban_member", W, "admin", summary="lift a ban"),
    _("set_admin", W, "owner", summary="make or unmake a room admin"),
    _("set_owner", W, "owner", summary="make or unmake a room owner"),
    _("open_direct", W, any_room=False, contact="dm", summary="open a direct room"),
    _("mark_read", MR, "member", contact="read", summary="move one's read pointer"),
    _("read_receipts", MR, "member", summary="how far the members have read"),
    _("export_room", None, "owner", summary="the room as JSON lines"),
    _("typing", MW, "member", contact="typing", summary="typing indicators"),
    # messages
    _("read_messages", MR, "member", summary="history, threads, pins, sync of a room"),
    _("post_message", MW, "member", contact="message", summary="send (or a slash command)"),
    _("edit_message", MW, "member", contact="edit", rule=_sender, summary="edit a message",
      rule_text="Only the sender can edit a message."),
    _("delete_message", MW, "member", rule=_sender_or_admin, summary="delete a message",
      rule_text="Only the sender or a room admin can delete a message."),
    _("pin_message", MW, "member", contact="pin", rule=_pinner, summary="pin or unpin",
      rule_text="Only room admins can pin here (unless the room lets members pin)."),
    _("report_message", None, "member", summary="report a message"),
    _("sync", MR, summary="catch up on every room (sync_all, GET /api/sync)"),
    _("connect", MR, summary="open a socket (it delivers messages)"),
    _("search_messages", MR, summary="search one's rooms (or one of them)"),
    _("list_threads", MR, summary="one's threads"),
    _("list_commands", MR, summary="the slash commands"),
    # people
    _("read_users", UR, summary="the directory, profiles, who is online"),
    _("room_presence", UR, "member", summary="who is online in a room one is in"),
    _("read_self", UR, summary="one's own profile"),
    _("update_self", None, summary="profile, status, settings, avatar"),
    _("block_user", None, summary="block, unblock, list one's blocks"),
    _("deactivate_self", None, summary="deactivate one's account"),
    _("verify_email", None, summary="have one's email address checked"),
    # sessions, tokens, bots, integrations
    _("manage_sessions", None, summary="list and end one's sessions, change password"),
    _("manage_tokens", None, summary="one's API tokens"),
    _("manage_bots", None, summary="one's bots and their tokens"),
    _("manage_devices", None, summary="one's push devices"),
    _("manage_webhooks", None, "admin", summary="a room's incoming webhooks"),
    _("manage_subscriptions", None, "admin", summary="a room's outgoing webhooks"),
    _("room_reports", None, "admin", summary="a room's reports"),
    _("resolve_report", None, summary="room admins (their rooms) or site admins"),
    # who may register
    _("create_invite", None, "admin", any_room=False,
      summary="an invite link to one's rooms (to none: site admins)"),
    _("manage_invites", None, summary="list and revoke one's invite links"),
    # site administration
    _("site_admin", None, "site_admin", summary="users, reports, audit log, any message"),
)  # fmt: skip
CORE_ACTIONS: dict[str, Action] = {a.name: a for a in CORE}


def register(app: Flask, actions: Iterable[Action]) -> None:
    """Add an app's plugins' actions (the `register_actions` hook); the core's stay."""
    registered = app.extensions.setdefault("plugin_actions", {})
    for act in actions:
        if act.name not in CORE_ACTIONS:
            registered.setdefault(act.name, act)


def actions() -> dict[str, Action]:
    """Every action of the current app: the core's and its plugins'."""
    return {**current_app.extensions.get("plugin_actions", {}), **CORE_ACTIONS}


def action(name: str) -> Action:
    """The action called `name`; an unknown name is a bug, never an allowed call."""
    found = CORE_ACTIONS.get(name) or actions().get(name)
    if found is None:
        raise LookupError(f"unknown action {name!r}: declare it (policy.CORE or a plugin)")
    return found


def admit(actor: Actor, name: str) -> None:
    """What a transport checks before any read: the account and the credential, and
    the rule of an action that concerns no room and no one else (one that does is
    decided again, whole, by the service once it has read them).

    Raises:
        Unauthorized, InsufficientScope, Forbidden (site admins' actions).
    """
    act = action(name)
    _account(actor)
    _credential(actor, act, None if act.any_room else _NO_ROOM)
    if act.role == "site_admin" and not actor.user.site_admin:
        raise Forbidden("Only site admins can do that.")
    if act.role not in ROOM_ROLES and act.contact is None:  # nothing more to read
        _rule(actor, act, None, None)


def authorize(
    actor: Actor,
    name: str,
    room: Room | None = None,
    target: User | ObjectId | None = None,
    resource: Any = None,
) -> None:
    """Decide `name` for `actor` (see the module's order); return, or raise.

    Args:
        room: the room acted in (required by actions with a role in a room).
        target: the person the action reaches (an invitee, a message's sender).
        resource: the object acted on (a Message), for the rule.
    Raises:
        Unauthorized, InsufficientScope, NotFound, Forbidden.
    """
    act = action(name)
    _account(actor)
    _credential(actor, act, room)
    if act.role == "site_admin" and not actor.user.site_admin:
        raise Forbidden("Only site admins can do that.")
    if room is not None:
        _relation(actor, act, room)
    elif act.role in ROOM_ROLES:
        raise LookupError(f"{name} is decided in a room: pass it")
    _blocks(actor, act, room, target)
    _rule(actor, act, room, resource)


def _account(actor: Actor) -> None:
    if actor.user.deactivated:
        raise Unauthorized("This account was deactivated.")


_NO_ROOM = object()  # admit: a room-limited token asks for what reaches no room


def _credential(actor: Actor, act: Action, room: Any) -> None:
    cred = actor.credential
    if cred.kind == "session":
        return
    if act.scope is None or cred.scopes is None or act.scope not in cred.scopes:
        needed = f"the {act.scope} scope" if act.scope else "a signed-in session"
        raise InsufficientScope(f"This token may not do that: it needs {needed}.")
    if cred.rooms is None:
        return
    if room is _NO_ROOM or (room is None and not act.any_room):
        raise InsufficientScope("This token is limited to its rooms.")
    if room is not None and room.id not in cred.rooms:
        raise InsufficientScope("This token may not use that room.")


def require_room(actor: Actor, room_id: ObjectId) -> None:
    """The credential part of reaching a room by id (before it is read)."""
    if not actor.credential.may_use(room_id):
        raise InsufficientScope("This token may not use that room.")


def _relation(actor: Actor, act: Action, room: Room) -> None:
    member = actor.id in room.participants
    if not member and room.type != "public":
        raise NotFound("Room not found.")
    if act.role in ("anyone", "visible"):
        return
    if not member:
        raise Forbidden("Join the room first.")
    if act.role == "admin" and actor.id not in room.admins:
        raise Forbidden("Only room admins can do that.")
    if act.role == "owner" and actor.id not in room.owners:
        raise Forbidden("Only room owners can do that.")


def _blocks(actor: Actor, act: Action, room: Room | None, target: User | ObjectId | None) -> None:
    if act.contact is None:
        return
    reached = {_id_of(target)} if target is not None else set()
    if room is not None and room.type == "direct":
        reached |= {p for p in room.participants if p != actor.id}
    reached.discard(actor.id)
    if reached and reached & blockers_of(actor.id):
        raise Forbidden("This user does not accept your messages.")


def _rule(actor: Actor, act: Action, room: Room | None, resource: Any) -> None:
    if not permission(actor, act.name, room, resource, default=True):  # the core: core_rule
        raise Forbidden(act.rule_text or "You are not allowed to do that here.")


def _core(actor: Actor, act: Action, room: Room | None, resource: Any) -> bool:
    return act.rule is None or act.rule(actor, room, resource)


def core_rule(actor: Actor, name: str, room: Room | None, resource: Any) -> bool | None:
    """The core's own answer for `permission_allowed` (None for actions it has no rule
    for: those pass once the role holds)."""
    act = actions().get(name)
    return None if act is None else _core(actor, act, room, resource)


def _id_of(person: User | ObjectId) -> ObjectId:
    return person if isinstance(person, ObjectId) else person.id


def blockers_of(user_id: ObjectId | str) -> set[ObjectId]:
    """Ids of the people who blocked `user_id`, read fresh (a block holds at once)."""
    doc = User._get_collection().find_one({"_id": ObjectId(user_id)}, {"blocked_by": 1})
    return set((doc or {}).get("blocked_by", []))


# --- what one person may see of another, and what may reach them ---

SEEN = ("read", "presence", "status", "typing")


def sees(viewer: ObjectId | str, subject: dict | User, what: str) -> bool:
    """May `viewer` see `what` of `subject` (a user document or its raw dict)?

    read: how far the subject has read, unless they turned read receipts off;
    presence, status, typing: unless the viewer blocked the subject (whose activity
    then stops reaching them). One always sees oneself.
    """
    get = subject.get if isinstance(subject, dict) else lambda k, d=None: getattr(subject, k, d)
    viewer = ObjectId(viewer)
    if viewer == get("_id" if isinstance(subject, dict) else "id"):
        return True
    if what == "read":
        return get("read_receipts", True) is not False
    if what in SEEN:
        return viewer not in (get("blocked_by", None) or [])
    raise LookupError(f"unknown visibility {what!r}")


def reaches(sender: ObjectId | str, recipient: dict | User) -> bool:
    """May a delivery caused by `sender` (a mention, a reply's notification, a push,
    an email) reach `recipient`? Not when the recipient blocked the sender."""
    blocked = recipient.get("blocked") if isinstance(recipient, dict) else recipient.blocked
    return ObjectId(sender) not in (blocked or [])


# --- the table of docs/security.md ---


def table() -> str:
    """Who may do what, as the Markdown table docs/security.md carries."""
    rows = [
        "| action | what | token scope | who | a block stops it | rule |",
        "|---|---|---|---|---|---|",
    ]
    for act in sorted(actions().values(), key=lambda a: a.name):
        scope = f"`{act.scope}`" if act.scope else "session only"
        if act.scope and not act.any_room:
            scope += " (not room-limited)"
        who = {"anyone": "anyone signed in", "visible": "room visible to them"}.get(
            act.role, f"room {act.role}" if act.role != "site_admin" else "site admin"
        )
        contact = act.contact or ""
        rows.append(
            f"| `{act.name}` | {act.summary} | {scope} | {who} | {contact} | {act.rule_text} |"
        )
    return "\n".join(rows) + "\n"
