"""Profiles and the directory: GET /api/users/:id, batch lookup, prefix search,
PATCH /api/users/me, and `user_updated` to the rooms a user shares."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from tests.conftest import assert_error, snapshot

UNKNOWN = "0123456789abcdef01234567"


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat().replace("+00:00", "Z")


def test_a_profile_by_id_shows_public_fields_only(alice, bob):
    seen = bob.ok("get", f"/api/users/{alice.id}")
    assert seen["id"] == alice.id and seen["username"] == "alice"
    assert seen["displayName"] == "alice" and seen["status"] is None
    assert seen["avatarUrl"] is None and seen["bot"] is False and seen["deactivated"] is False
    assert "email" not in seen and "settings" not in seen
    mine = alice.ok("get", "/api/users/me")
    assert mine["email"] == "alice@example.com" and mine["settings"] == {"readReceipts": True}


def test_unknown_and_malformed_ids(alice):
    assert_error(alice.call("get", f"/api/users/{UNKNOWN}"), 404, "not_found")
    assert_error(alice.call("get", "/api/users/not-an-id"), 404, "not_found")


def test_batch_lookup_keeps_the_order_and_leaves_unknown_ids_out(alice, bob, make_user):
    carol = make_user("carol")
    ids = f"{carol.id},{UNKNOWN},{alice.id},{carol.id}"
    found = alice.ok("get", "/api/users", query_string={"ids": ids})["users"]
    assert [u["username"] for u in found] == ["carol", "alice"]


@pytest.mark.parametrize(
    "ids",
    ["", "nope", ",".join([UNKNOWN] * 101), f"{UNKNOWN},x"],
    ids=["empty", "bad", "101", "mixed"],
)
def test_batch_lookup_refuses_bad_ids(alice, ids):
    assert_error(
        alice.call("get", "/api/users", query_string={"ids": ids}), 422, "validation_error"
    )


def test_search_by_username_or_display_name_prefix_in_any_case(alice, bob, make_user):
    make_user("robert")
    alice.ok("patch", "/api/users/me", json={"displayName": "Bobby Tables"})

    def names(q: str) -> list[str]:
        found = alice.ok("get", "/api/users/search", query_string={"q": q})["users"]
        return [u["username"] for u in found]

    assert names("BO") == ["alice", "bob"]  # alice by her display name
    assert names("rob") == ["robert"]
    assert names("zz") == []
    assert names(".*") == []  # a prefix, not a pattern
    limited = alice.ok("get", "/api/users/search", query_string={"q": "b", "limit": 1})["users"]
    assert len(limited) == 1


@pytest.mark.parametrize(
    "query", [{}, {"q": ""}, {"q": "x" * 65}, {"q": "a", "limit": 0}, {"q": "a", "limit": 51}]
)
def test_search_refuses_bad_queries(alice, query):
    assert_error(
        alice.call("get", "/api/users/search", query_string=query), 422, "validation_error"
    )


def test_profile_changes(alice, bob):
    until = _iso(timedelta(hours=2))
    body = {
        "displayName": "Alice Liddell",
        "status": {"text": "in a meeting", "emoji": "📅", "expiresAt": until},
        "settings": {"readReceipts": False},
    }
    changed = alice.ok("patch", "/api/users/me", json=body)
    assert changed["displayName"] == "Alice Liddell"
    assert changed["status"]["text"] == "in a meeting" and changed["status"]["emoji"] == "📅"
    assert changed["settings"] == {"readReceipts": False}
    seen = bob.ok("get", f"/api/users/{alice.id}")
    assert seen["status"]["expiresAt"].startswith(until[:16]) and "settings" not in seen
    cleared = alice.ok("patch", "/api/users/me", json={"status": None})
    assert cleared["status"] is None and cleared["displayName"] == "Alice Liddell"


def test_an_expired_status_is_shown_as_none(alice, db):
    alice.ok(
        "patch",
        "/api/users/me",
        json={"status": {"text": "brb", "expiresAt": _iso(timedelta(minutes=5))}},
    )
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.users.update_one({"_id": ObjectId(alice.id)}, {"$set": {"status.expires_at": past}})
    assert alice.ok("get", "/api/users/me")["status"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": ""},
        {"displayName": "   "},
        {"displayName": "a\u202eb"},
        {"displayName": "x" * 65},
        {"displayName": 7},
        {"status": {"text": "x" * 141}},
        {"status": {"emoji": "not an emoji"}},
        {"status": {"emoji": "👍👍"}},
        {"status": {"text": "late", "expiresAt": "2001-01-01T00:00:00Z"}},
        {"status": {"text": "forever", "expiresAt": "2999-01-01T00:00:00Z"}},
        {"status": {"text": "x", "colour": "red"}},
        {"settings": {"readReceipts": "no"}},
        {"email": "new@example.com"},
        {"username": "mallory"},
    ],
)
def test_bad_profile_changes_are_refused_and_change_nothing(alice, db, body):
    before = snapshot(db, "users")
    assert_error(alice.call("patch", "/api/users/me", json=body), 422, "validation_error")
    assert snapshot(db, "users") == before


def test_user_updated_reaches_room_mates_not_strangers(people):
    alice, bob, stranger = people("alice", "bob", "stranger")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    b, s, a = bob.socket(), stranger.socket(), alice.socket()
    alice.ok("patch", "/api/users/me", json={"displayName": "Queen Alice"})
    told = b.wait_for("user_updated")["user"]
    assert told["id"] == alice.id and told["displayName"] == "Queen Alice"
    assert "email" not in told and "settings" not in told
    assert a.wait_for("user_updated")["user"]["displayName"] == "Queen Alice"  # her devices
    assert s.quiet("user_updated") == []
    alice.ok("patch", "/api/users/me", json={"settings": {"readReceipts": False}})
    alice.ok("patch", "/api/users/me", json={"displayName": "Queen Alice"})  # no change
    assert len(b.quiet("user_updated")) == 1
