"""Reports, site admins (`flask users set-admin`), their API, and the audit log of every
moderation and admin action."""

import pytest

from chat.models import AuditEntry, User
from tests.conftest import PASSWORD, assert_error, snapshot

UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("moderated")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def _set_admin(app, username: str, *extra: str):
    return app.test_cli_runner().invoke(args=["users", "set-admin", username, *extra])


@pytest.fixture
def admin(app, make_user):
    admin = make_user("root")
    result = _set_admin(app, "root")
    assert result.exit_code == 0 and "now a site admin" in result.output
    return admin


def _audit(admin) -> list[tuple]:
    entries = admin.ok("get", "/api/admin/audit")["entries"]
    return [(e["action"], e["actorId"], e["target"], e["roomId"]) for e in entries]


def test_members_report_messages_once_and_admins_resolve_them(alice, bob, make_user, room):
    message = alice.send(room, "buy cheap watches")["id"]
    report = bob.ok("post", f"/api/messages/{message}/report", 201, json={"reason": "spam"})
    assert (report["status"], report["reporterId"], report["roomId"]) == ("open", bob.id, room)
    again = bob.call("post", f"/api/messages/{message}/report", json={"reason": "abuse"})
    assert_error(again, 409, "conflict")
    listed = alice.ok("get", f"/api/rooms/{room}/reports")["reports"]
    assert [r["id"] for r in listed] == [report["id"]]
    assert_error(bob.call("get", f"/api/rooms/{room}/reports"), 403, "forbidden")
    assert_error(
        bob.call("patch", f"/api/reports/{report['id']}", json={"status": "resolved"}),
        403,
        "forbidden",
    )
    done = alice.ok("patch", f"/api/reports/{report['id']}", json={"status": "dismissed"})
    assert (done["status"], done["resolvedBy"]) == ("dismissed", alice.id)
    closed = alice.call("patch", f"/api/reports/{report['id']}", json={"status": "resolved"})
    assert_error(closed, 409, "conflict")
    assert (
        alice.ok("get", f"/api/rooms/{room}/reports", query_string={"status": "open"})["reports"]
        == []
    )
    entry = AuditEntry.objects(action="report.dismissed").get()
    assert (str(entry.actor), entry.target, str(entry.room)) == (alice.id, report["id"], room)


@pytest.mark.parametrize(
    "body", [{"reason": "boring"}, {"reason": "spam", "note": "x" * 501}, {}, {"reason": 1}]
)
def test_bad_reports_store_nothing(alice, bob, room, db, body):
    message = alice.send(room, "hello")["id"]
    before = snapshot(db, "reports")
    response = bob.call("post", f"/api/messages/{message}/report", json=body)
    assert_error(response, 422, "validation_error")
    assert snapshot(db, "reports") == before


def test_reports_on_messages_you_cannot_see(alice, bob, make_user, room, db):
    stranger = make_user("stranger")
    hidden = alice.create_room("secret", isPrivate=True)["id"]
    secret = alice.send(hidden, "secret")["id"]
    for target in (secret, UNKNOWN, "nope"):
        response = stranger.call("post", f"/api/messages/{target}/report", json={"reason": "spam"})
        assert_error(response, 404, "not_found")
    public = alice.send(room, "public")["id"]
    response = stranger.call("post", f"/api/messages/{public}/report", json={"reason": "spam"})
    assert_error(response, 404, "not_found")  # a public room you are not in
    assert_error(stranger.call("get", f"/api/rooms/{hidden}/reports"), 404, "not_found")
    assert snapshot(db, "reports") == {"reports": []}


def test_site_admin_powers_and_the_audit_log(app, admin, alice, bob, client, room):
    # the role comes from the command line, and so says the log
    assert _audit(admin) == [("site_admin.grant", None, admin.id, None)]
    for path in ("/api/admin/audit", "/api/admin/users", "/api/admin/reports"):
        assert_error(alice.call("get", path), 403, "forbidden")
    assert_error(alice.call("post", f"/api/admin/users/{bob.id}/deactivate"), 403, "forbidden")
    # users, deactivated ones too, with their email
    found = admin.ok("get", "/api/admin/users", query_string={"q": "BO"})["users"]
    assert [(u["username"], u["email"], u["siteAdmin"]) for u in found] == [
        ("bob", "bob@example.com", False)
    ]
    gone = admin.ok("post", f"/api/admin/users/{bob.id}/deactivate")
    assert gone["deactivated"] is True
    assert_error(bob.call("get", "/api/users/me"), 401, "unauthorized")
    login = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert_error(login, 403, "forbidden")
    assert admin.ok("get", "/api/admin/users", query_string={"q": "bob"})["users"][0]["deactivated"]
    admin.ok("post", f"/api/admin/users/{bob.id}/reactivate")
    login = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert login.status_code == 200
    mine = admin.call("post", f"/api/admin/users/{admin.id}/deactivate")
    assert_error(mine, 409, "conflict")
    # any message, in a room the admin is not in
    message = alice.send(room, "against the rules")["id"]
    admin.ok("delete", f"/api/admin/messages/{message}", 204)
    assert alice.history(room)["messages"][-1]["deleted"] is True
    assert_error(admin.call("delete", f"/api/admin/messages/{UNKNOWN}"), 404, "not_found")
    assert _audit(admin)[:3] == [
        ("message.delete", admin.id, message, room),
        ("user.reactivate", admin.id, bob.id, None),
        ("user.deactivate", admin.id, bob.id, None),
    ]
    result = _set_admin(app, "nobody")
    assert result.exit_code != 0 and "no user named" in result.output


def test_room_moderation_is_in_the_audit_log(admin, alice, bob, make_user, room):
    carol = make_user("carol")
    carol.ok("post", f"/api/rooms/{room}/join")
    message = bob.send(room, "rude")["id"]
    alice.ok("delete", f"/api/messages/{message}", 204)  # an admin deletes another's message
    bob.ok("delete", f"/api/messages/{bob.send(room, 'mine')['id']}", 204)  # not moderation
    alice.ok("put", f"/api/rooms/{room}/admins/{carol.id}")
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")
    alice.ok("post", f"/api/rooms/{room}/bans", json={"userId": bob.id})
    alice.ok("delete", f"/api/rooms/{room}/bans/{bob.id}")
    actions = [(a, actor, target) for a, actor, target, r in _audit(admin) if r == room]
    assert actions == [
        ("member.unban", alice.id, bob.id),
        ("member.ban", alice.id, bob.id),
        ("member.kick", alice.id, bob.id),
        ("role.grant", alice.id, carol.id),
        ("message.delete", alice.id, message),
    ]
    page = admin.ok("get", "/api/admin/audit", query_string={"limit": 2})
    rest = admin.ok("get", "/api/admin/audit", query_string={"cursor": page["nextCursor"]})
    assert len(page["entries"]) == 2 and len(rest["entries"]) == len(_audit(admin)) - 2
    assert User.objects(username_lower="root").get().site_admin
