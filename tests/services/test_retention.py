"""Retention: old message bodies (and files) become tombstones, per room or server-wide,
one process at a time; paging, sync and search stay consistent."""

import io
from datetime import timedelta

import pytest

from chat.models import Message
from chat.models.base import utcnow
from chat.services import retention
from tests.conftest import assert_error, plugin_enabled, snapshot
from tests.plugins.files import png


def _age(message_id: str, days: int) -> None:
    Message.objects(id=message_id).update_one(set__timestamp=utcnow() - timedelta(days=days))


def _run(app) -> int:
    with app.app_context():
        return retention.run()


def test_a_rooms_retention_purges_old_bodies_to_tombstones(app, alice, bob, db):
    room = alice.create_room("short memory")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"retentionDays": 7}})
    cursor = bob.ok("get", "/api/sync")["cursor"]
    old, recent = alice.send(room, "ancient secret")["id"], alice.send(room, "fresh news")["id"]
    other = alice.create_room("keeps everything")["id"]
    kept = alice.send(other, "ancient but kept")["id"]
    _age(old, 8)
    _age(recent, 6)
    _age(kept, 400)
    assert _run(app) == 1
    history = bob.history(room)["messages"]
    assert [(m["seq"], m.get("deleted", False), m["content"]) for m in history] == [
        (1, True, ""),
        (2, False, "fresh news"),
    ]
    assert bob.ok("get", "/api/search/messages", query_string={"q": "secret"})["messages"] == []
    changes = bob.ok("get", "/api/sync", query_string={"since": cursor})["changes"]
    deleted = [c for c in changes if c["type"] == "message_deleted"]
    assert [c["data"]["message"]["id"] for c in deleted] == [old]
    assert Message.objects.get(id=kept).content == "ancient but kept"
    assert _run(app) == 0  # nothing more is due


def test_the_server_wide_retention_and_room_overrides(app, alice, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RETENTION_DAYS", 30)
    plain = alice.create_room("plain")["id"]
    longer = alice.create_room("longer")["id"]
    alice.ok("put", f"/api/rooms/{longer}", json={"settings": {"retentionDays": 365}})
    gone, stays = alice.send(plain, "old")["id"], alice.send(longer, "old too")["id"]
    _age(gone, 31)
    _age(stays, 31)
    assert _run(app) == 1
    assert Message.objects.get(id=gone).deleted and not Message.objects.get(id=stays).deleted


def test_one_process_at_a_time(app, alice, db):
    room = alice.create_room("leased")["id"]
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"retentionDays": 1}})
    message = alice.send(room, "old")["id"]
    _age(message, 2)
    later = utcnow() + timedelta(seconds=60)
    db.leases.insert_one({"_id": "retention", "holder": "another:1", "until": later})
    assert _run(app) == 0 and not Message.objects.get(id=message).deleted
    db.leases.update_one({"_id": "retention"}, {"$set": {"until": utcnow()}})  # it died
    assert _run(app) == 1 and Message.objects.get(id=message).deleted


@pytest.mark.skipif(not plugin_enabled("file_sharing"), reason="the file sharing plugin")
def test_files_go_with_their_messages(app, alice):
    room = alice.create_room("files")["id"]
    alice.ok("put", f"/api/rooms/{room}", json={"settings": {"retentionDays": 1}})
    form = {"file": (io.BytesIO(png()), "a.png", "image/png")}
    sent = alice.call(
        "post", f"/api/rooms/{room}/files", data=form, content_type="multipart/form-data"
    )
    message = sent.get_json()
    _age(message["id"], 2)
    assert _run(app) == 1
    assert alice.call("get", message["attachment"]["url"]).status_code == 404


@pytest.mark.parametrize("value", [-1, 36501, "7", 1.5])
def test_bad_retention_values(alice, db, value):
    room = alice.create_room("r")["id"]
    before = snapshot(db, "rooms")
    body = {"settings": {"retentionDays": value}}
    assert_error(alice.call("put", f"/api/rooms/{room}", json=body), 422, "validation_error")
    assert snapshot(db, "rooms") == before
