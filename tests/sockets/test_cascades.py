"""Principals end everywhere at once, at the transport (docs/reliability.md rows 40-41):
on two servers started as shipped, ending a webhook, an account or a session closes
every socket of it on both processes within 2 s, and not only its /chat namespace but
its Engine.IO connection; a client that leaves /chat is closed after
SOCKET_AUTH_TIMEOUT; undecodable frames close the connection with one log line.
Each of these failed on the main of 2026-12-04."""

import asyncio
import hashlib
import json
from urllib.parse import urlsplit

import pytest

from chat.models import ApiToken, IncomingWebhook
from tests.conftest import PASSWORD
from tests.faults.rawws import RawSocket
from tests.processes import server

LEGACY = "legacy-secret-minted-before-the-policy-0123456789"


@pytest.fixture
def pair(app, live_settings):
    settings = {**live_settings, "SOCKET_AUTH_TIMEOUT": 1}
    with server(settings) as (a, _), server(settings) as (b, proc_b):
        yield a, b, proc_b


async def _chat(base: str, token: str) -> RawSocket:
    """A raw websocket in /chat with `token` (its open and connect packets read)."""
    parts = urlsplit(base)
    raw = await RawSocket.open(parts.hostname, parts.port)
    try:
        assert (await raw.recv()).startswith("0{")
        raw.send("40/chat," + json.dumps({"token": token}))
        answer = await raw.recv()
        assert answer.startswith("40/chat,"), answer
    except BaseException:
        raw.close()
        raise
    return raw


def _legacy_token(user_id: str) -> str:
    """A token of the webhook's bot as its creator could mint one before the policy."""
    token = ApiToken(user=user_id, owner=user_id, name="old", scopes=["messages:read"],
                     digest=hashlib.sha256(LEGACY.encode()).hexdigest())  # fmt: skip
    token.save(force_insert=True)
    return f"cht_{token.id}_{LEGACY}"


def test_ending_an_account_or_a_session_closes_its_transports(pair, people):
    a, b, _ = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room("ops", isPrivate=True)
    hook = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "CI"})
    legacy = _legacy_token(IncomingWebhook.objects.get(id=hook["id"]).bot)
    bot = alice.ok("post", "/api/bots", 201, json={"username": "deploy-bot"})

    async def scenario():
        opened = []
        try:
            with pytest.raises(AssertionError, match="unauthorized"):
                opened.append(await _chat(b, legacy))  # a webhook's bot is no one's
            opened += [await _chat(b, t) for t in (bot["token"], alice.token, bob.token)]
            bot_sock, alice_sock, bob_sock = opened
            alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})  # on a
            assert await bot_sock.closed_within(2)  # her bot ends with her
            assert await alice_sock.closed_within(2)
            bob.ok("post", "/api/auth/logout", 204)
            assert await bob_sock.closed_within(2)
        finally:
            for raw in opened:
                raw.close()

    asyncio.run(scenario())


def test_a_client_that_leaves_chat_is_closed_after_the_auth_timeout(pair, people):
    a, _, _ = pair
    alice = people("alice", base=a)

    async def scenario():
        raw = await _chat(a, alice.token)
        await asyncio.sleep(3)  # past its start's deadline and the check after it
        raw.send("41/chat,")
        try:
            assert await raw.closed_within(3)  # SOCKET_AUTH_TIMEOUT=1, checked every second
        finally:
            raw.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("frame", ["abc", "", "4abc", "42abc[", '42/chat,["x"'])
def test_an_undecodable_frame_closes_the_connection_with_one_log_line(pair, people, frame):
    a, b, proc_b = pair
    alice = people("alice", base=a)

    async def scenario():
        raw = await _chat(b, alice.token)
        raw.send(frame)
        try:
            assert await raw.closed_within(2)
        finally:
            raw.close()
        again = await _chat(b, alice.token)  # the process is fine
        again.close()

    asyncio.run(scenario())
    proc_b.log.seek(0)
    lines = proc_b.log.read().decode().splitlines()
    assert len([line for line in lines if "undecodable" in line]) == 1
    assert not [line for line in lines if "Traceback" in line or '"status": 500' in line]


def test_a_blockers_sockets_do_not_get_the_blocked_users_profile(pair, people):
    a, b, _ = pair
    alice, bob, carol = people("alice", "bob", "carol", base=a)
    room = alice.create_room("general")
    for person in (bob, carol):
        person.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    alice_sock, carol_sock = alice.socket(base=b), carol.socket(base=b)
    bob.ok("patch", "/api/users/me", json={"status": {"text": "on call", "emoji": ""}})
    heard = carol_sock.wait_for("user_updated", lambda e: e["user"]["id"] == bob.id)
    assert heard["user"]["status"]["text"] == "on call"
    assert alice_sock.quiet("user_updated", 1.0) == []
