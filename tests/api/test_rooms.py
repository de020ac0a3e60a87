"""Rooms over REST: create, list, update, join/leave, members, bans, roles, direct rooms."""

from tests.conftest import assert_error


def test_create_room_makes_the_creator_owner_admin_and_participant(alice):
    room = alice.create_room("general")
    assert room["name"] == "general"
    assert room["type"] == "public"
    assert room["participants"] == room["admins"] == room["owners"] == [alice.id]
    assert room["settings"] == {
        "isPrivate": False,
        "maxParticipants": 1000,
        "allowFileSharing": True,
        "membersCanPin": False,
        "slowModeSeconds": 0,
        "retentionDays": 0,
    }
    assert room["createdAt"].endswith("Z") and room["lastActivity"].endswith("Z")


def test_private_room_settings(alice):
    settings = {"isPrivate": True, "maxParticipants": 5, "allowFileSharing": False}
    more = {"membersCanPin": True, "slowModeSeconds": 10, "retentionDays": 30}
    room = alice.create_room("secret", **settings, **more)
    assert room["type"] == "private"
    assert room["settings"] == {**settings, **more}


def test_list_shows_public_rooms_and_mine_with_cursor_pages(alice, bob):
    public = [alice.create_room(f"pub{i}")["id"] for i in range(5)]
    hidden = alice.create_room("alice-only", isPrivate=True)["id"]
    mine = bob.create_room("bob-private", isPrivate=True)["id"]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = bob.ok("get", "/api/rooms", query_string=query)
        assert len(page["rooms"]) <= 2
        seen += [r["id"] for r in page["rooms"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [*public, mine]
    assert hidden not in seen


def test_list_carries_unread_counts_for_my_rooms(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    first = alice.send(room, "one")
    alice.send(room, "two")
    bob.send(room, "mine do not count")
    listed = {r["id"]: r for r in bob.ok("get", "/api/rooms")["rooms"]}
    assert listed[room]["unreadCount"] == 2
    read = bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": first["id"]})
    assert read == {"unreadCount": 1}
    listed = {r["id"]: r for r in bob.ok("get", "/api/rooms")["rooms"]}
    assert listed[room]["unreadCount"] == 1


def test_read_pointer_never_moves_backwards(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    first, second = alice.send(room, "one"), alice.send(room, "two")
    assert bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": second["id"]}) == {
        "unreadCount": 0
    }
    assert bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": first["id"]}) == {
        "unreadCount": 0
    }


def test_non_members_see_no_unread_count(alice, bob):
    alice.create_room("general")
    (room,) = bob.ok("get", "/api/rooms")["rooms"]
    assert "unreadCount" not in room


def test_update_room_is_for_admins(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    assert_error(bob.call("put", f"/api/rooms/{room}", json={"name": "mine"}), 403, "forbidden")
    body = {"name": " renamed ", "description": "d", "settings": {"maxParticipants": 50}}
    updated = alice.ok("put", f"/api/rooms/{room}", json=body)
    assert updated["name"] == "renamed" and updated["description"] == "d"
    assert updated["settings"] == {
        "isPrivate": False,
        "maxParticipants": 50,
        "allowFileSharing": True,
        "membersCanPin": False,
        "slowModeSeconds": 0,
        "retentionDays": 0,
    }
    private = alice.ok("put", f"/api/rooms/{room}", json={"settings": {"isPrivate": True}})
    assert private["type"] == "private"


def test_join_public_room_is_idempotent_and_private_needs_invite(alice, bob):
    room = alice.create_room("general")["id"]
    assert bob.ok("post", f"/api/rooms/{room}/join")["participants"] == [alice.id, bob.id]
    assert bob.ok("post", f"/api/rooms/{room}/join")["participants"] == [alice.id, bob.id]
    private = alice.create_room("secret", isPrivate=True)["id"]
    assert_error(bob.call("post", f"/api/rooms/{private}/join"), 404, "not_found")


def test_max_participants_is_enforced(alice, bob, make_user):
    room = alice.create_room("small", maxParticipants=2)["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    carol = make_user("carol")
    assert_error(carol.call("post", f"/api/rooms/{room}/join"), 409, "conflict")
    assert_error(
        alice.call("post", f"/api/rooms/{room}/members", json={"userId": carol.id}), 409, "conflict"
    )


def test_leave_and_last_owner_rule(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    assert_error(alice.call("post", f"/api/rooms/{room}/leave"), 409, "conflict")
    bob.ok("post", f"/api/rooms/{room}/leave", 204)
    assert bob.ok("get", f"/api/rooms/{room}")["participants"] == [alice.id]
    # alone, the last owner may leave
    alice.ok("post", f"/api/rooms/{room}/leave", 204)


def test_owner_hands_over_then_leaves(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    granted = alice.ok("put", f"/api/rooms/{room}/owners/{bob.id}")
    assert set(granted["owners"]) == {alice.id, bob.id} and bob.id in granted["admins"]
    alice.ok("post", f"/api/rooms/{room}/leave", 204)
    after = bob.ok("get", f"/api/rooms/{room}")
    assert after["owners"] == after["admins"] == after["participants"] == [bob.id]


def test_a_co_owner_cannot_depose_or_ban_the_creator(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/rooms/{room}/owners/{bob.id}")
    assert_error(bob.call("delete", f"/api/rooms/{room}/owners/{alice.id}"), 403, "forbidden")
    ban = bob.call("post", f"/api/rooms/{room}/bans", json={"userId": alice.id})
    assert_error(ban, 403, "forbidden")
    assert_error(bob.call("delete", f"/api/rooms/{room}/members/{alice.id}"), 403, "forbidden")
    assert alice.id in bob.ok("get", f"/api/rooms/{room}")["owners"]
    # the creator may step down (another owner remains), and the other way round works
    alice.ok("delete", f"/api/rooms/{room}/owners/{bob.id}")
    alice.ok("put", f"/api/rooms/{room}/owners/{bob.id}")
    assert alice.ok("delete", f"/api/rooms/{room}/owners/{alice.id}")["owners"] == [bob.id]


def test_the_last_owner_cannot_step_down(alice):
    room = alice.create_room("general")["id"]
    assert_error(alice.call("delete", f"/api/rooms/{room}/owners/{alice.id}"), 409, "conflict")


def test_private_room_invite_kick_and_roles(alice, bob, make_user):
    room = alice.create_room("secret", isPrivate=True)["id"]
    carol = make_user("carol")
    for user in (bob, carol):
        alice.ok("post", f"/api/rooms/{room}/members", json={"userId": user.id})
    assert bob.ok("get", f"/api/rooms/{room}")["participants"] == [alice.id, bob.id, carol.id]
    # a plain member cannot invite or kick
    assert_error(bob.call("delete", f"/api/rooms/{room}/members/{carol.id}"), 403, "forbidden")
    promoted = alice.ok("put", f"/api/rooms/{room}/admins/{bob.id}")
    assert promoted["admins"] == [alice.id, bob.id]
    # admins kick members, but not owners; only owners promote
    assert_error(bob.call("delete", f"/api/rooms/{room}/members/{alice.id}"), 403, "forbidden")
    assert_error(bob.call("put", f"/api/rooms/{room}/admins/{carol.id}"), 403, "forbidden")
    kicked = bob.ok("delete", f"/api/rooms/{room}/members/{carol.id}")
    assert carol.id not in kicked["participants"]
    assert_error(carol.call("get", f"/api/rooms/{room}"), 404, "not_found")
    demoted = alice.ok("delete", f"/api/rooms/{room}/admins/{bob.id}")
    assert demoted["admins"] == [alice.id]


def test_admins_cannot_kick_admins_but_owners_can(alice, bob, make_user):
    room = alice.create_room("general")["id"]
    carol = make_user("carol")
    for user in (bob, carol):
        user.ok("post", f"/api/rooms/{room}/join")
        alice.ok("put", f"/api/rooms/{room}/admins/{user.id}")
    assert_error(bob.call("delete", f"/api/rooms/{room}/members/{carol.id}"), 403, "forbidden")
    after = alice.ok("delete", f"/api/rooms/{room}/members/{carol.id}")
    assert carol.id not in after["participants"] and carol.id not in after["admins"]


def test_ban_keeps_a_user_out_until_unbanned(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    banned = alice.ok("post", f"/api/rooms/{room}/bans", json={"userId": bob.id})
    assert bob.id not in banned["participants"]
    assert_error(bob.call("post", f"/api/rooms/{room}/join"), 403, "forbidden")
    assert_error(
        alice.call("post", f"/api/rooms/{room}/members", json={"userId": bob.id}), 409, "conflict"
    )
    alice.ok("delete", f"/api/rooms/{room}/bans/{bob.id}")
    assert bob.id in bob.ok("post", f"/api/rooms/{room}/join")["participants"]


def test_direct_room_is_the_same_for_the_same_pair(alice, bob, make_user):
    first = alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})
    again = bob.ok("post", "/api/rooms/direct", json={"userId": alice.id})
    assert first["id"] == again["id"]
    assert first["type"] == "direct" and first["settings"]["isPrivate"] is True
    assert sorted(first["participants"]) == sorted([alice.id, bob.id])
    carol = make_user("carol")
    assert_error(carol.call("get", f"/api/rooms/{first['id']}"), 404, "not_found")
    assert_error(
        alice.call("post", f"/api/rooms/{first['id']}/members", json={"userId": carol.id}),
        403,
        "forbidden",
    )
    assert_error(alice.call("post", f"/api/rooms/{first['id']}/leave"), 409, "conflict")
    assert alice.send(first["id"], "hi bob")["content"] == "hi bob"


def test_direct_room_needs_another_existing_user(alice):
    assert_error(
        alice.call("post", "/api/rooms/direct", json={"userId": alice.id}), 422, "validation_error"
    )
    ghost = "0123456789abcdef01234567"
    assert_error(alice.call("post", "/api/rooms/direct", json={"userId": ghost}), 404, "not_found")


def test_find_a_user_by_username_to_invite_them(alice, bob):
    assert alice.ok("get", "/api/users/by-username/BOB") == {
        k: v
        for k, v in bob.session["user"].items()
        if k not in ("email", "emailVerified", "settings")  # one's own view only
    }
    assert_error(alice.call("get", "/api/users/by-username/nobody"), 404, "not_found")
