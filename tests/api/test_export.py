"""Room export as JSON lines: for owners over REST (streamed) and on the command line."""

import json

from chat.models import AuditEntry
from chat.services import export
from tests.conftest import assert_error, plugin_enabled


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_owners_export_their_room(app, alice, bob, make_user, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)  # several pages of messages
    room = alice.create_room("archive")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    first = alice.send(room, "draft")["id"]
    alice.ok("patch", f"/api/messages/{first}", json={"content": "final"})
    gone = bob.send(room, "oops")["id"]
    bob.ok("delete", f"/api/messages/{gone}", 204)
    bob.send(room, "ünïcode ✓")
    if plugin_enabled("reactions"):
        bob.ok("post", f"/api/messages/{first}/reactions", json={"emoji": "👍"})
    response = alice.call("get", f"/api/rooms/{room}/export")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    lines = _lines(response.get_data(as_text=True))
    assert [line["type"] for line in lines] == ["room", "member", "member", *["message"] * 3]
    assert lines[0]["room"]["name"] == "archive"
    assert [m["user"]["username"] for m in lines[1:3]] == ["alice", "bob"]
    messages = [line["message"] for line in lines[3:]]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    assert messages[0]["content"] == "final" and lines[3]["history"][0]["content"] == "draft"
    assert messages[1]["deleted"] is True and messages[1]["content"] == ""
    assert messages[2]["content"] == "ünïcode ✓"
    if plugin_enabled("reactions"):
        assert [r["emoji"] for r in messages[0]["reactions"]] == ["👍"]
    assert AuditEntry.objects(action="room.export", target=room).count() == 1
    # the command line writes the same lines
    result = app.test_cli_runner().invoke(args=["export", "--room", room])
    assert result.exit_code == 0 and _lines(result.output)[3:] == lines[3:]
    missing = app.test_cli_runner().invoke(args=["export", "--room", "nope"])
    assert missing.exit_code != 0 and "no room" in missing.output


def test_only_owners_export(alice, bob, make_user):
    stranger = make_user("stranger")
    room = alice.create_room("open")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    assert_error(bob.call("get", f"/api/rooms/{room}/export"), 403, "forbidden")
    hidden = alice.create_room("hidden", isPrivate=True)["id"]
    assert_error(stranger.call("get", f"/api/rooms/{hidden}/export"), 404, "not_found")
    assert AuditEntry.objects(action="room.export").count() == 0
