"""Reactions plugin: REST and socket paths, atomicity, validation, membership."""

import threading
from urllib.parse import quote

import pytest

from chat.models import Message
from tests.conftest import assert_error


@pytest.fixture
def chat(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room, alice.send(room, "react to me")["id"]


def test_react_and_unreact(chat, alice, bob):
    _room, message = chat
    reacted = bob.ok("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    assert [(r["user"], r["emoji"]) for r in reacted["reactions"]] == [(bob.id, "👍")]
    assert reacted["reactionCounts"] == {"👍": 1}
    again = bob.ok("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    assert again["reactionCounts"] == {"👍": 1}  # one per (user, emoji, message)
    alice.ok("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    both = alice.ok("post", f"/api/messages/{message}/reactions", json={"emoji": ":tada:"})
    assert both["reactionCounts"] == {"👍": 2, ":tada:": 1}
    removed = bob.ok("delete", f"/api/messages/{message}/reactions/{quote('👍')}")
    assert removed["reactionCounts"] == {"👍": 1, ":tada:": 1}
    assert alice.history(_room)["messages"][0]["reactionCounts"] == {"👍": 1, ":tada:": 1}


@pytest.mark.parametrize("emoji", ["👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "#️⃣", ":+1:"])
def test_real_emoji_are_accepted(chat, alice, emoji):
    _room, message = chat
    response = alice.ok("post", f"/api/messages/{message}/reactions", json={"emoji": emoji})
    assert response["reactionCounts"] == {emoji: 1}


@pytest.mark.parametrize("emoji", ["a", "hello", "<script>", "👍x", ":Nope:", "", "👍" * 13, 5])
def test_unknown_emoji_are_refused(chat, alice, db, emoji):
    _room, message = chat
    response = alice.call("post", f"/api/messages/{message}/reactions", json={"emoji": emoji})
    assert "emoji" in assert_error(response, 422, "validation_error")["fields"]
    assert not Message.objects.get(id=message).data.get("reactions")


def test_concurrent_reactors_never_lose_each_other(app, chat, make_user):
    room, message = chat
    users = [make_user(f"user{i}") for i in range(8)]
    for user in users:
        user.ok("post", f"/api/rooms/{room}/join")
    barrier = threading.Barrier(len(users) * 2)

    def react(user, emoji):
        barrier.wait()
        with app.test_client() as client:
            body = {"emoji": emoji}
            client.post(f"/api/messages/{message}/reactions", json=body, headers=user.headers)

    threads = [threading.Thread(target=react, args=(u, e)) for u in users for e in ("👍", "🎉")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = Message.objects.get(id=message).data["reactions"]  # the plugin's data
    assert sorted((str(r["user"]), r["emoji"]) for r in stored) == sorted(
        (u.id, e) for u in users for e in ("👍", "🎉")
    )


def test_reactions_are_for_members_only(chat, alice, make_user):
    _room, message = chat
    carol = make_user("carol")
    refused = carol.call("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    assert_error(refused, 403, "forbidden")
    secret = alice.create_room("secret", isPrivate=True)["id"]
    hidden = alice.send(secret, "hidden")["id"]
    refused = carol.call("post", f"/api/messages/{hidden}/reactions", json={"emoji": "👍"})
    assert_error(refused, 404, "not_found")
    assert_error(carol.call("delete", f"/api/messages/{hidden}/reactions/x"), 404, "not_found")


def test_no_reactions_on_deleted_messages(chat, alice):
    _room, message = chat
    alice.ok("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    alice.ok("delete", f"/api/messages/{message}", 204)
    refused = alice.call("post", f"/api/messages/{message}/reactions", json={"emoji": "👍"})
    assert_error(refused, 409, "conflict")
    assert not Message.objects.get(id=message).data.get("reactions")  # the tombstone drops them


def test_reactions_per_user_are_bounded(chat, alice):
    _room, message = chat
    emoji = [chr(0x1F600 + i) for i in range(21)]
    for e in emoji[:20]:
        alice.ok("post", f"/api/messages/{message}/reactions", json={"emoji": e})
    too_many = alice.call("post", f"/api/messages/{message}/reactions", json={"emoji": emoji[20]})
    assert_error(too_many, 409, "conflict")
