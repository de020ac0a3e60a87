"""Who may register (REGISTRATION, ALLOWED_EMAIL_DOMAINS) and invite links: made by
room admins (their rooms) and site admins, previewed, redeemed, revoked, and ended
with their maker's power."""

import hashlib
from datetime import timedelta

import pytest

from chat.models import Invite, Room, User
from chat.models.base import utcnow
from tests.conftest import PASSWORD, Caller, assert_error, snapshot


def _register(client, username: str, invite: str | None = None, email: str | None = None):
    body = {"username": username, "email": email or f"{username}@example.com",
            "password": PASSWORD}  # fmt: skip
    if invite is not None:
        body["invite"] = invite
    return client.post("/api/auth/register", json=body)


@pytest.fixture
def invite_only(app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION", "invite")


def _invite(caller: Caller, *rooms: str, **extra) -> dict:
    return caller.ok("post", "/api/invites", 201, json={"rooms": list(rooms), **extra})


def _site_admin(caller: Caller) -> Caller:
    User.objects(id=caller.id).update_one(set__site_admin=True)
    return caller


def test_a_room_admin_invites_to_their_room_and_the_invitee_joins_it(
    client, app, alice, invite_only, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://chat.example.com/")
    room = alice.create_room("team", isPrivate=True)["id"]
    made = _invite(alice, room, maxUses=2)
    assert made["url"] == f"https://chat.example.com/#invite={made['token']}"
    assert (made["rooms"], made["maxUses"], made["uses"]) == ([room], 2, 0)
    stored = Invite.objects.get(id=made["id"])
    assert stored.digest == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["token"] not in str(Invite._get_collection().find_one())
    preview = client.get(f"/api/invites/preview/{made['token']}").get_json()
    assert preview == {"rooms": [{"id": room, "name": "team"}], "expiresAt": made["expiresAt"]}

    bob = _register(client, "bob", made["token"])
    assert bob.status_code == 201
    members = alice.ok("get", f"/api/rooms/{room}")["participants"]
    assert bob.get_json()["user"]["id"] in [m if isinstance(m, str) else m["id"] for m in members]
    listed = alice.ok("get", "/api/invites")["invites"]
    assert [(i["id"], i["uses"]) for i in listed] == [(made["id"], 1)]
    assert "token" not in listed[0] and "url" not in listed[0]


def test_invite_only_registration_refuses_without_a_usable_invite(client, app, alice, invite_only):
    room = alice.create_room()["id"]
    assert_error(_register(client, "bob"), 403, "registration_closed")
    assert_error(_register(client, "bob", "not-a-token"), 403, "registration_closed")
    once = _invite(alice, room)["token"]
    assert _register(client, "bob", once).status_code == 201
    assert_error(_register(client, "carol", once), 403, "registration_closed")  # used up
    assert client.get(f"/api/invites/preview/{once}").status_code == 404
    assert User.objects(username="carol").count() == 0


def test_a_taken_username_gives_the_invites_use_back(client, alice, invite_only):
    made = _invite(alice, alice.create_room()["id"])
    assert_error(_register(client, "alice", made["token"]), 409, "conflict")
    assert Invite.objects.get(id=made["id"]).uses == 0
    assert _register(client, "bob", made["token"]).status_code == 201


def test_closed_registration_refuses_everyone(client, app, alice, monkeypatch):
    made = _invite(alice, alice.create_room()["id"])
    monkeypatch.setitem(app.config, "REGISTRATION", "closed")
    assert_error(_register(client, "bob"), 403, "registration_closed")
    assert_error(_register(client, "bob", made["token"]), 403, "registration_closed")
    assert Invite.objects.get(id=made["id"]).uses == 0 and User.objects.count() == 1


def test_open_registration_takes_an_invite_for_its_rooms(client, alice):
    room = alice.create_room(isPrivate=True)["id"]
    assert _register(client, "bob").status_code == 201  # no invite needed
    made = _invite(alice, room)
    carol = _register(client, "carol", made["token"]).get_json()["user"]
    assert carol["id"] in [str(p) for p in Room.objects.get(id=room).participants]
    assert_error(_register(client, "dave", "spent-or-unknown"), 403, "registration_closed")


def test_email_domains_are_limited_when_configured(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOWED_EMAIL_DOMAINS", ["example.com"])
    before = snapshot(db, "users")
    for email in ("bob@elsewhere.org", "bob@sub.example.com", "bob@example.com.evil.io"):
        error = assert_error(_register(client, "bob", email=email), 422, "validation_error")
        assert "email" in error["fields"]
    assert snapshot(db, "users") == before
    assert _register(client, "bob", email="Bob@EXAMPLE.com").status_code == 201


def test_who_may_make_invites(client, alice, bob):
    room = alice.create_room(isPrivate=True)["id"]
    public = alice.create_room("lobby")["id"]
    bob.ok("post", f"/api/rooms/{public}/join")
    assert_error(bob.call("post", "/api/invites", json={"rooms": [room]}), 404, "not_found")
    assert_error(bob.call("post", "/api/invites", json={"rooms": [public]}), 403, "forbidden")
    assert_error(alice.call("post", "/api/invites", json={}), 403, "forbidden")  # to the site
    _site_admin(bob)
    assert _invite(bob)["rooms"] == []  # a site admin invites to the site
    assert Invite.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"rooms": ["nope"]},
        {"rooms": "x"},
        {"maxUses": 0},
        {"maxUses": 1001},
        {"maxUses": "2"},
        {"expiresIn": 10},
        {"guest": True, "extra": 1},
    ],
)
def test_bad_invites_are_refused_and_store_nothing(alice, db, body):
    room = alice.create_room()["id"]
    body = {"rooms": [room], **body}
    assert_error(alice.call("post", "/api/invites", json=body), 422, "validation_error")
    assert Invite.objects.count() == 0


def test_revoked_and_expired_invites_lead_nowhere(client, alice, bob, invite_only):
    room = alice.create_room()["id"]
    revoked, expired = _invite(alice, room), _invite(alice, room)
    assert_error(bob.call("delete", f"/api/invites/{revoked['id']}"), 404, "not_found")
    alice.ok("delete", f"/api/invites/{revoked['id']}", 204)
    Invite.objects(id=expired["id"]).update_one(set__expires_at=utcnow() - timedelta(seconds=1))
    for made in (revoked, expired):
        assert client.get(f"/api/invites/preview/{made['token']}").status_code == 404
        assert_error(_register(client, "carol", made["token"]), 403, "registration_closed")
    assert alice.ok("get", "/api/invites")["invites"] == []


def test_a_site_admin_lists_and_revokes_everyones_invites(alice, bob):
    made = _invite(alice, alice.create_room()["id"])
    assert bob.ok("get", "/api/invites")["invites"] == []
    _site_admin(bob)
    assert [i["id"] for i in bob.ok("get", "/api/invites")["invites"]] == [made["id"]]
    bob.ok("delete", f"/api/invites/{made['id']}", 204)
    assert Invite.objects.count() == 0


def test_an_invite_ends_with_its_makers_power(client, alice, bob, invite_only):
    one, two = alice.create_room("one")["id"], alice.create_room("two")["id"]
    for room in (one, two):
        bob.ok("post", f"/api/rooms/{room}/join")
        alice.ok("put", f"/api/rooms/{room}/admins/{bob.id}")
    only_one, both = _invite(bob, one), _invite(bob, one, two)
    alice.ok("delete", f"/api/rooms/{one}/admins/{bob.id}")  # demoted in `one`
    assert client.get(f"/api/invites/preview/{only_one['token']}").status_code == 404
    assert Invite.objects(id=only_one["id"]).count() == 0
    preview = client.get(f"/api/invites/preview/{both['token']}").get_json()
    assert [r["name"] for r in preview["rooms"]] == ["two"]
    carol = _register(client, "carol", both["token"]).get_json()["user"]
    assert carol["id"] not in [str(p) for p in Room.objects.get(id=one).participants]
    assert carol["id"] in [str(p) for p in Room.objects.get(id=two).participants]


def test_a_deactivated_makers_invites_end(client, alice, invite_only):
    made = _invite(alice, alice.create_room()["id"])
    alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})
    assert Invite.objects.count() == 0
    assert client.get(f"/api/invites/preview/{made['token']}").status_code == 404
    assert_error(_register(client, "bob", made["token"]), 403, "registration_closed")


def test_an_invite_passes_over_a_room_its_maker_cannot_reach_now(client, alice, invite_only):
    room = alice.create_room()["id"]
    made = _invite(alice, room)
    # a write outside the services (no cascade ran): the invite is decided afresh
    Room.objects(id=room).update_one(pull__admins=alice.id, pull__owners=alice.id)
    assert client.get(f"/api/invites/preview/{made['token']}").get_json()["rooms"] == []
    bob = _register(client, "bob", made["token"]).get_json()["user"]
    assert bob["id"] not in [str(p) for p in Room.objects.get(id=room).participants]


def test_live_invites_per_maker_are_bounded(alice, monkeypatch):
    from chat.services import invites

    monkeypatch.setattr(invites, "MAX_LIVE", 2)
    room = alice.create_room()["id"]
    first, _ = _invite(alice, room), _invite(alice, room)
    error = assert_error(alice.call("post", "/api/invites", json={"rooms": [room]}), 422,
                         "validation_error")  # fmt: skip
    assert "maxUses" in error["fields"]
    alice.ok("delete", f"/api/invites/{first['id']}", 204)
    _invite(alice, room)  # room again once one is revoked


def test_flask_users_create_makes_accounts_whatever_registration_says(app, client, invite_only):
    def create(*args: str):
        return app.test_cli_runner().invoke(args=["users", "create", *args])

    bad = create("x", "not-an-email", "--password", PASSWORD)
    assert bad.exit_code != 0 and "invalid" in bad.output and User.objects.count() == 0
    made = create("root", "root@example.com", "--password", PASSWORD)
    assert made.exit_code == 0 and "created root" in made.output
    assert not User.objects.get(username="root").site_admin
    login = {"username": "root", "password": PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 200
