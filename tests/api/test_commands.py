"""Slash commands over REST and a socket: the built-ins, who may run them, and
arguments that are only ever text."""

import pytest

from chat.models import Message
from tests.conftest import assert_error


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("ops")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def _run(caller, room, content, status=202):
    return caller.ok("post", "/api/messages", status, json={"roomId": room, "content": content})


def test_the_built_ins_are_listed(alice):
    listed = alice.ok("get", "/api/commands")["commands"]
    assert [c["name"] for c in listed] == ["help", "invite", "kick", "me", "shrug", "topic"]
    assert all(c["description"] and c["usage"].startswith("/") for c in listed)


def test_me_shrug_and_a_literal_slash(alice, bob, room):
    me = _run(alice, room, "/me deploys v7", 201)
    assert me["content"] == "deploys v7" and me["command"] == "me"
    assert _run(alice, room, "/shrug works for me", 201)["content"] == "works for me ¯\\_(ツ)_/¯"
    assert _run(alice, room, "//etc/hosts is the file", 201)["content"] == "/etc/hosts is the file"
    contents = [m["content"] for m in bob.history(room)["messages"]]
    assert contents == ["deploys v7", "works for me ¯\\_(ツ)_/¯", "/etc/hosts is the file"]


def test_topic_invite_and_kick_are_for_admins(alice, bob, make_user, room):
    carol = make_user("carol")
    assert _run(alice, room, "/topic Deploys only")["text"] == "Topic set."
    assert alice.ok("get", f"/api/rooms/{room}")["description"] == "Deploys only"
    assert "@carol" in _run(alice, room, "/invite @carol")["text"]
    assert carol.id in alice.ok("get", f"/api/rooms/{room}")["participants"]
    for content in ("/topic mine now", "/kick @carol", "/invite alice"):
        answer = bob.call("post", "/api/messages", json={"roomId": room, "content": content})
        assert_error(answer, 403, "forbidden")
    _run(alice, room, "/kick carol")
    assert carol.id not in alice.ok("get", f"/api/rooms/{room}")["participants"]
    assert alice.ok("get", f"/api/rooms/{room}")["description"] == "Deploys only"


def test_help_answers_the_sender_alone(alice, room):
    answer = _run(alice, room, "/help")
    assert answer["command"] == "help" and "/invite @user" in answer["text"]
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "content, status, field",
    [
        ("/nope", 422, "content"),
        ("/NOPE", 422, "content"),
        ("/", 422, "content"),
        ("/me", 422, "content"),
        ("/kick", 422, "content"),
        ("/kick @carol; drop database", 422, "content"),
        ('/invite {"$ne": null}', 422, "content"),
        ("/invite @nobody-here", 404, None),
        ("/topic " + "x" * 1001, 422, "content"),
    ],
)
def test_bad_commands_are_4xx_and_change_nothing(alice, room, content, status, field):
    before = alice.ok("get", f"/api/rooms/{room}")
    answer = alice.call("post", "/api/messages", json={"roomId": room, "content": content})
    error = assert_error(answer, status, "validation_error" if status == 422 else "not_found")
    if field:
        assert field in error["fields"]
    if content == "/nope":
        assert "/help" in error["fields"]["content"][0]  # the known ones are listed
    assert Message.objects.count() == 0
    assert alice.ok("get", f"/api/rooms/{room}") == before


def test_commands_need_the_room(alice, make_user, room):
    carol = make_user("carol")
    answer = carol.call("post", "/api/messages", json={"roomId": room, "content": "/help"})
    assert_error(answer, 403, "forbidden")
