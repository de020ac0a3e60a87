"""The authorization matrix: every operation of docs/openapi.json, every client event of
docs/asyncapi.yaml and every slash command is classified by the policy's action
(`x-action`), and every REST operation and slash command runs for every kind of actor
against the decision the policy documents (docs/security.md): the expected answer is
worked out here from the action's declared scope, role, contact and rule, never by
asking the policy. An operation that is not classified fails the first tests.

The world, made afresh for each operation: a private room R (owner, admin, members,
a bot), another room O, and people related to R in every way. Each kind of actor has
its own message and its own victim in R, so that what one kind does (a kick, a
delete) leaves the others' cases as they were.
"""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from bson import ObjectId
from chat_file_sharing.models import Attachment

from chat.actor import Actor
from chat.models import (
    ApiToken,
    IncomingWebhook,
    Message,
    ReadState,
    Report,
    Room,
    Subscription,
    User,
)
from chat.models.integration import SCOPES
from chat.services import auth, policy, slash, tokens
from tests.plugins.files import png

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPENAPI = json.loads((DOCS / "openapi.json").read_text())
ASYNCAPI = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
# No principal acts here: an account is made or signed in to, a refresh token or an
# emailed token is spent (tests/api/test_auth.py, test_account_lifecycle.py), an
# invite is previewed (test_invites.py: its maker's power is decided again there), or
# a webhook's secret URL posts as its bot (its action: post_message; test_webhooks.py).
PUBLIC = {
    ("get", "/api/invites/preview/{token}"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/password-reset"),
    ("post", "/api/auth/password-reset/confirm"),
    ("post", "/api/auth/verify-email/confirm"),
    ("post", "/api/hooks/{hook_id}/{secret}"),
}
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = sorted(
    (method, path, op.get("x-action"))
    for path, item in OPENAPI["paths"].items()
    for method, op in item.items()
    if method in METHODS
)
EVENTS = {
    name: op.get("x-action")
    for name, op in ASYNCAPI["operations"].items()
    if op["action"] == "receive"
}
ACCOUNTLESS = ("deactivated", "bot of a deactivated owner", "webhook's bot")
SITE_ONLY = ("site admin",)
KINDS = (
    "owner", "admin", "member", "left", "kicked", "banned", "outsider",
    "blocked by the target", "blocking the target", "bot", "admin of another room",
    "site admin", "room-limited token", *(f"token {s}" for s in SCOPES), *ACCOUNTLESS,
)  # fmt: skip
MEMBERS = ("owner", "admin", "member", "blocked by the target", "blocking the target", "bot")
GONE = ("left", "kicked", "banned", "outsider", "admin of another room", "site admin")


def test_every_operation_event_and_command_is_classified(app):
    named = {a for *_, a in OPERATIONS if a} | {a for a in EVENTS.values() if a}
    with app.app_context():
        declared = set(policy.actions())
    unknown = sorted(named - declared)
    assert unknown == [], "actions that the policy does not declare"
    unclassified = [(m, p) for m, p, a in OPERATIONS if a is None and (m, p) not in PUBLIC]
    assert unclassified == []
    assert [name for name, action in EVENTS.items() if action is None] == []
    with app.app_context():
        named = {c.name: c.action for c in slash.registered().values()}
    assert {n: a for n, a in named.items() if a not in declared} == {}
    assert len(OPERATIONS) > 80 and len(EVENTS) > 10 and "kick" in named


def test_docs_security_holds_the_policys_table(app):
    text = (DOCS / "security.md").read_text()
    with app.app_context():
        table = policy.table()
    assert table in text, "docs/security.md is out of date: `make docs` writes it"


# --- the world ---


@dataclass
class World:
    room: ObjectId  # R, private
    other: ObjectId  # O
    peer: ObjectId  # the person reached (a member of R)
    headers: dict  # kind -> Authorization header
    users: dict  # kind -> user id (a token's: its user's)
    own: dict  # kind -> their message in R (the owner's for the owner's tokens)
    victims: dict  # kind -> a member of R of their own to act on
    peer_message: ObjectId
    hook: ObjectId
    sub: ObjectId
    report: ObjectId
    file: str


HASH: dict = {}


def _user(name: str, **fields) -> User:
    if "hash" not in HASH:
        HASH["hash"] = auth.hash_password("correct horse battery")
    user = User(username=name, username_lower=name.lower(), email=f"{name}@example.com",
                password_hash=HASH["hash"], **fields)  # fmt: skip
    user.save(force_insert=True)
    return user


def _session(user: User) -> str:
    return auth.issue_tokens(user)["accessToken"]


def _token(user: User, scopes, rooms=None) -> str:
    actor = Actor.session(user, "matrix")
    subject = None
    if user.bot:
        actor, subject = Actor.session(User.objects.get(id=user.bot_owner), "matrix"), user
    made = tokens.create_token(actor, "m", list(scopes), rooms, subject=subject)
    return made["token"]


def _message(room: ObjectId, sender: User, seq: int, content: str) -> ObjectId:
    message = Message(room=room, sender=sender.id, sender_name=sender.username, seq=seq,
                      content=content, message_type="text", terms=["hello"])  # fmt: skip
    message.save(force_insert=True)
    return message.id


def build_world() -> World:
    people = {k: _user(f"k{i}") for i, k in enumerate(KINDS) if not k.startswith("token")}
    people.pop("room-limited token")
    owner = people["owner"]
    for kind in ("bot", "bot of a deactivated owner"):
        bot_owner = owner if kind == "bot" else people["deactivated"]
        User.objects(id=people[kind].id).update_one(set__bot=True, set__bot_owner=bot_owner.id)
        people[kind].reload()
    User.objects(id=people["webhook's bot"].id).update_one(set__bot=True)
    people["webhook's bot"].reload()
    peer, victims = _user("peer"), {k: _user(f"victim{i}").id for i, k in enumerate(KINDS)}
    members = [people[k].id for k in (*MEMBERS, "deactivated", "bot of a deactivated owner")]
    room = Room(name="R", type="private", participants=[*members, peer.id, *victims.values()],
                admins=[owner.id, people["admin"].id], owners=[owner.id],
                banned=[people["banned"].id], created_by=owner.id)  # fmt: skip
    room.settings.is_private = True
    room.save(force_insert=True)
    elsewhere = people["admin of another room"].id
    other = Room(name="O", type="private", participants=[owner.id, elsewhere],
                 admins=[elsewhere], owners=[owner.id], created_by=owner.id)  # fmt: skip
    other.save(force_insert=True)
    User.objects(id=people["site admin"].id).update_one(set__site_admin=True)
    people["site admin"].reload()
    User.objects(id=peer.id).update_one(push__blocked=people["blocked by the target"].id)
    User.objects(id=people["blocked by the target"].id).update_one(push__blocked_by=peer.id)
    User.objects(id=people["blocking the target"].id).update_one(push__blocked=peer.id)
    User.objects(id=peer.id).update_one(push__blocked_by=people["blocking the target"].id)
    headers, users, own, seq = {}, {}, {}, 1
    for kind, user in people.items():
        users[kind] = user.id
        if user.bot:
            headers[kind] = _token(user, SCOPES) if kind == "bot" else None
        else:
            headers[kind] = _session(user)
        if user.id in room.participants:
            own[kind] = _message(room.id, user, seq, f"{kind} says hello")
            seq += 1
    legacy = ApiToken(user=people["webhook's bot"].id, owner=owner.id, name="old",
                      scopes=list(SCOPES), digest="0" * 64)  # fmt: skip
    legacy.save(force_insert=True)
    headers["webhook's bot"] = f"cht_{legacy.id}_{'x' * 43}"
    # the deactivated owner's bot: a token made while its owner was active
    User.objects(id=people["deactivated"].id).update_one(set__deactivated=False)
    headers["bot of a deactivated owner"] = _token(people["bot of a deactivated owner"], SCOPES)
    for kind in ("deactivated",):
        User.objects(id=people[kind].id).update_one(set__deactivated=True)
    for scope in SCOPES:
        headers[f"token {scope}"] = _token(owner, [scope])
        users[f"token {scope}"], own[f"token {scope}"] = owner.id, own["owner"]
    headers["room-limited token"] = _token(owner, SCOPES, [str(other.id)])
    users["room-limited token"], own["room-limited token"] = owner.id, own["owner"]
    peer_message = _message(room.id, peer, seq, "peer says hello")
    Room.objects(id=room.id).update_one(set__last_seq=seq)
    Room.objects(id=room.id).update_one(pull__participants=people["left"].id)
    Room.objects(id=room.id).update_one(pull__participants=people["kicked"].id)
    hook = IncomingWebhook(room=room.id, name="CI", bot=people["webhook's bot"].id,
                           digest="0" * 64, created_by=owner.id)  # fmt: skip
    hook.save(force_insert=True)
    sub = Subscription(room=room.id, url="https://93.184.215.14/", events=["message_received"],
                       secret="whsec_x", created_by=owner.id)  # fmt: skip
    sub.save(force_insert=True)
    report = Report(message=peer_message, room=room.id, reporter=owner.id, reason="spam")
    report.save(force_insert=True)
    ReadState(user=peer.id, room=room.id, seq=1).save()
    attachment = Attachment(room=room.id, message=peer_message, uploader=peer.id, name="a.txt",
                            content_type="text/plain", size=1)  # fmt: skip
    attachment.id = "f" * 24
    attachment.save(force_insert=True)
    return World(room.id, other.id, peer.id, {k: f"Bearer {v}" for k, v in headers.items()},
                 users, own, victims, peer_message, hook.id, sub.id, report.id,
                 attachment.id)  # fmt: skip


def _store_file(app, world: World) -> None:
    app.extensions["file_storage"].save(world.file, io.BytesIO(b"x"), "text/plain")


# --- the requests ---

MESSAGE_OWN = {("patch", "/api/messages/{message_id}"), ("delete", "/api/messages/{message_id}"),
               ("get", "/api/messages/{message_id}/history")}  # fmt: skip
BODIES = {
    ("post", "/api/auth/password"): {"currentPassword": "wrong one", "newPassword": "x" * 12},
    ("post", "/api/bots"): {"username": "newbot-{n}"},
    ("post", "/api/bots/{bot_id}/tokens"): {"name": "t", "scopes": ["messages:read"]},
    ("post", "/api/devices"): {"platform": "fcm", "token": "device-token-1"},
    ("post", "/api/invites"): {"rooms": ["{room}"]},
    ("post", "/api/messages"): {"roomId": "{room}", "content": "hello"},
    ("patch", "/api/messages/{message_id}"): {"content": "edited"},
    ("post", "/api/messages/{message_id}/reactions"): {"emoji": "👍"},
    ("post", "/api/messages/{message_id}/report"): {"reason": "spam"},
    ("put", "/api/notifications/preferences"): {"email": False},
    ("post", "/api/notifications/read"): {"ids": [str(ObjectId())]},
    ("patch", "/api/reports/{report_id}"): {"status": "dismissed"},
    ("post", "/api/rooms"): {"name": "new"},
    ("post", "/api/rooms/direct"): {"userId": "{peer}"},
    ("put", "/api/rooms/{room_id}"): {"description": "topic"},
    ("post", "/api/rooms/{room_id}/bans"): {"userId": "{victim}"},
    ("post", "/api/rooms/{room_id}/members"): {"userId": "{peer}"},
    ("post", "/api/rooms/{room_id}/read"): {"messageId": "{peer_message}"},
    ("post", "/api/rooms/{room_id}/subscriptions"): {
        "url": "https://93.184.215.14/x",
        "events": ["message_received"],
    },
    ("post", "/api/rooms/{room_id}/webhooks"): {"name": "hook"},
    ("post", "/api/tokens"): {"name": "t", "scopes": ["messages:read"]},
    ("delete", "/api/users/me"): {"password": "wrong one"},
    ("patch", "/api/users/me"): {"displayName": "Someone"},
}
QUERIES = {
    ("get", "/api/search/messages"): {"q": "hello"},
    ("get", "/api/users"): {"ids": "{peer}"},
    ("get", "/api/users/search"): {"q": "pe"},
}
FILES = {("post", "/api/rooms/{room_id}/files"), ("put", "/api/users/me/avatar")}
# What an allowed call may still answer, by the rules of the domain (not the policy).
ALLOWED_ANYWAY = {
    ("post", "/api/auth/password"): 422,  # a wrong current password
    ("delete", "/api/users/me"): 422,  # likewise
    ("delete", "/api/auth/sessions/{session_id}"): 404,  # no such session of theirs
    ("delete", "/api/bots/{bot_id}"): 404,  # the bot is the owner's
    ("get", "/api/bots/{bot_id}/tokens"): 404,
    ("post", "/api/bots/{bot_id}/tokens"): 404,
    ("delete", "/api/bots/{bot_id}/tokens/{token_id}"): 404,
    ("delete", "/api/tokens/{token_id}"): 404,
    ("delete", "/api/devices/{device_id}"): 404,
    ("delete", "/api/invites/{invite_id}"): 404,
    ("post", "/api/rooms/{room_id}/leave"): 409,  # the last owner
    ("post", "/api/rooms/{room_id}/join"): 403,  # a private room needs an invite
    ("post", "/api/messages/{message_id}/report"): 409,  # already reported
    ("delete", "/api/rooms/{room_id}/subscriptions/{sub_id}"): 404,  # an admin was first
    ("delete", "/api/rooms/{room_id}/webhooks/{hook_id}"): 404,
    ("patch", "/api/reports/{report_id}"): 409,  # closed by an admin before
    ("post", "/api/devices"): 422,  # no FCM sender configured here
}


def _request(world: World, kind: str, method: str, path: str, n: int) -> dict:
    fill = {
        "room": str(world.room),
        "room_id": str(world.room),
        "peer": str(world.peer),
        "peer_message": str(world.peer_message),
        "victim": str(world.victims[kind]),
        "user_id": str(world.victims[kind]),
        "message_id": str(world.own.get(kind, world.peer_message))
        if (method, path) in MESSAGE_OWN
        else str(world.peer_message),
        "hook_id": str(world.hook),
        "sub_id": str(world.sub),
        "report_id": str(world.report),
        "file_id": world.file,
        "bot_id": str(world.users["bot"]),
        "token_id": str(ObjectId()),
        "session_id": "no-such-session",
        "device_id": str(ObjectId()),
        "invite_id": str(ObjectId()),
        "emoji": "👍",
        "username": "peer",
        "n": str(n),
    }
    if path == "/api/users/me/blocks/{user_id}":
        fill["user_id"] = str(world.peer)
    url = path.format(**fill)
    request: dict = {"headers": {"Authorization": world.headers[kind]}}
    body = BODIES.get((method, path))
    if body is not None:
        request["json"] = {k: _filled(v, fill) for k, v in body.items()}
    if (method, path) in QUERIES:
        request["query_string"] = {k: v.format(**fill) for k, v in QUERIES[method, path].items()}
    if (method, path) in FILES:
        request["data"] = {"file": (io.BytesIO(png()), "a.png")}
        request["content_type"] = "multipart/form-data"
    return {"url": url, **request}


def _filled(value, fill: dict):
    if isinstance(value, list):
        return [_filled(v, fill) for v in value]
    return value.format(**fill) if isinstance(value, str) else value


# --- the decision the policy documents, worked out from the declarations ---

ROOM_ROLES = ("visible", "member", "admin", "owner")


def _reaches_room(method: str, path: str) -> bool:
    """The operation acts in R (a path or body naming R, or one of its messages)."""
    named = ("{room_id}", "{message_id}", "{file_id}")
    bodies = {("post", "/api/messages"), ("patch", "/api/reports/{report_id}"),
              ("post", "/api/invites")}  # fmt: skip
    return any(n in path for n in named) or (method, path) in bodies


def expected(kind: str, act: policy.Action, method: str, path: str) -> tuple[int, str] | None:
    """(status, code) of the refusal, or None: allowed."""
    if kind in ACCOUNTLESS:
        return 401, "unauthorized"
    scopes = None
    if kind.startswith("token "):
        scopes = {kind.removeprefix("token ")}
    elif kind in ("room-limited token", "bot"):
        scopes = set(SCOPES)
    as_kind = "owner" if kind.startswith("token") or kind == "room-limited token" else kind
    in_room = _reaches_room(method, path)
    if scopes is not None:
        if act.scope is None or act.scope not in scopes:
            return 403, "insufficient_scope"
        if kind == "room-limited token" and (in_room or not act.any_room):
            return 403, "insufficient_scope"
    if act.role == "site_admin" and as_kind not in SITE_ONLY:
        return 403, "forbidden"
    if act.name == "resolve_report":  # room admins (their rooms) or site admins
        if as_kind in SITE_ONLY:
            return None
        return (404, "not_found") if as_kind in GONE else _role(as_kind, "admin")
    if in_room and (act.role in ROOM_ROLES or act.name in ("read_file",)):
        if as_kind in GONE:
            return 404, "not_found"
        refused = _role(as_kind, act.role)
        if refused:
            return refused
    if act.contact and kind == "blocked by the target" and _contacts_peer(method, path):
        return 403, "forbidden"
    if act.name in ("update_room", "pin_message") and as_kind not in ("owner", "admin"):
        return 403, "forbidden"  # the rule: room admins (R does not let members pin)
    return None


def _role(kind: str, role: str) -> tuple[int, str] | None:
    if role == "admin" and kind not in ("owner", "admin"):
        return 403, "forbidden"
    if role == "owner" and kind != "owner":
        return 403, "forbidden"
    return None


def _contacts_peer(method: str, path: str) -> bool:
    """Operations whose request reaches the peer (who blocked the actor)."""
    return (method, path) in {
        ("post", "/api/messages/{message_id}/reactions"),
        ("post", "/api/rooms/{room_id}/members"),
        ("post", "/api/rooms/direct"),
    }


CASES = [(m, p, a) for m, p, a in OPERATIONS if (m, p) not in PUBLIC]


@pytest.mark.parametrize("method, path, action", CASES, ids=[f"{m} {p}" for m, p, _ in CASES])
def test_every_operation_for_every_kind_of_actor(app, client, method, path, action):
    with app.app_context():
        world = build_world()
        _store_file(app, world)
    act = policy.action(action)
    wrong = []
    for n, kind in enumerate(sorted(KINDS, key=lambda k: k in ("owner", "admin"))):
        request = _request(world, kind, method, path, n)
        answer = getattr(client, method)(request.pop("url"), **request)
        answer.get_data()  # a streamed answer (a file, an export) runs to its end
        answer.close()
        body = answer.get_json(silent=True) or {}
        got = (answer.status_code, (body.get("error") or {}).get("code"))
        want = expected(kind, act, method, path)
        if want is None:
            fine = got[0] < 400 or got[0] == ALLOWED_ANYWAY.get((method, path), 0)
            if not fine or got[0] in (401, 500):
                wrong.append((kind, "allowed", got, body))
        elif got != want:
            wrong.append((kind, want, got, body))
    assert wrong == []


# Slash commands: the send's action in R first, then the command's own (its REST twin's).
COMMAND_ARGS = {"help": "", "me": "waves", "shrug": "", "topic": "hello", "invite": "@peer",
                "kick": "@{victim}"}  # fmt: skip
TWINS = {"update_room": ("put", "/api/rooms/{room_id}"),
         "invite_member": ("post", "/api/rooms/{room_id}/members"),
         "kick_member": ("delete", "/api/rooms/{room_id}/members/{user_id}")}  # fmt: skip


def test_every_slash_command_for_every_kind_of_actor(app, client):
    with app.app_context():
        world = build_world()
        registered = slash.registered()
    assert set(registered) >= set(COMMAND_ARGS)
    post = policy.action("post_message")
    wrong = []
    for name, args in COMMAND_ARGS.items():
        act = policy.action(registered[name].action)
        twin = TWINS.get(act.name, ("post", "/api/messages"))
        for index, kind in enumerate(KINDS):
            victim = f"victim{index}"
            content = f"/{name} {args.format(victim=victim)}".strip()
            body = {"roomId": str(world.room), "content": content}
            answer = client.post("/api/messages", json=body,
                                 headers={"Authorization": world.headers[kind]})  # fmt: skip
            error = (answer.get_json() or {}).get("error") or {}
            got = (answer.status_code, error.get("code"))
            want = expected(kind, post, "post", "/api/messages") or expected(kind, act, *twin)
            if (want is None and got[0] >= 400) or (want is not None and got != want):
                wrong.append((name, kind, want, got, error))
    assert wrong == []


# Socket events, on the shared server started as shipped: connecting is the `connect`
# action, then each event's own; an event acts in R unless it is sync_all.
def _payloads(world: World, kind: str) -> dict:
    room, peer = str(world.room), str(world.peer_message)
    own = str(world.own.get(kind, world.peer_message))
    return {
        "send_message": {"roomId": room, "content": "hello"},
        "edit_message": {"messageId": own, "content": "edited"},
        "delete_message": {"messageId": own},
        "join_room": {"roomId": room},
        "mark_read": {"roomId": room, "messageId": peer},
        "typing_start": {"roomId": room},
        "typing_stop": {"roomId": room},
        "sync": {"roomId": room},
        "sync_all": {},
        "add_reaction": {"messageId": peer, "emoji": "👍"},
        "remove_reaction": {"messageId": peer, "emoji": "👍"},
        "leave_room": {"roomId": room},  # last: the rest happen while in R
    }


SOCKET_TWINS = {"add_reaction": ("post", "/api/messages/{message_id}/reactions"),
                "sync_all": ("get", "/api/sync")}  # fmt: skip
SOCKET_ANYWAY = {"leave_room": 409}  # the last owner


def test_every_socket_event_for_every_kind_of_actor(app, live):
    from tests.sockets.client import ChatSocket

    with app.app_context():
        world = build_world()
    wrong = []
    for kind in sorted(KINDS, key=lambda k: k == "owner"):
        sock = ChatSocket(live, world.headers[kind].removeprefix("Bearer "))
        refused = expected(kind, policy.action("connect"), "get", "/api/sync")
        try:
            sock.connect()
        except Exception:
            if refused is None:
                wrong.append((kind, "connect", "allowed", sock.connect_errors))
            continue
        try:
            if refused is not None:
                wrong.append((kind, "connect", refused, "connected"))
                continue
            payloads = _payloads(world, kind)
            assert set(payloads) == set(EVENTS)
            for name, payload in payloads.items():
                act = policy.action(EVENTS[name])
                twin = SOCKET_TWINS.get(name, ("post", "/api/rooms/{room_id}/x"))
                ack = sock.call(name, payload)
                error = ack.get("error") or {}
                want = expected(kind, act, *twin)
                if want is None:
                    if not ack.get("ok") and SOCKET_ANYWAY.get(name) != _status(error):
                        wrong.append((kind, name, "allowed", ack))
                elif (_status(error), error.get("code")) != want:
                    wrong.append((kind, name, want, ack))
        finally:
            sock.close()
    assert wrong == []


def _status(error: dict) -> int | None:
    from chat import errors

    known = {c.code: c.status for c in vars(errors).values()
             if isinstance(c, type) and issubclass(c, errors.ChatError)}  # fmt: skip
    return known.get(error.get("code")) if error else None
