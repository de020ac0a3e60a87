"""File sharing plugin over REST: uploads, sniffing, limits, names, membership, deletes."""

import io
import time
from pathlib import Path

import pytest
from chat_file_sharing.models import Attachment

from chat.models import Message
from tests.conftest import assert_error
from tests.plugins.files import EXE, HTML, PDF, SVG, png


def upload(caller, room, data: bytes, name="file.bin", content="", content_type=None, **extra):
    form = {"file": (io.BytesIO(data), name, content_type or "application/octet-stream")}
    if content:
        form["content"] = content
    form.update(extra)
    return caller.call(
        "post", f"/api/rooms/{room}/files", data=form, content_type="multipart/form-data"
    )


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("files")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_image_upload_becomes_an_image_message_and_downloads(room, alice, bob):
    image = png()
    response = upload(alice, room, image, name="cat.png", content="look")
    assert response.status_code == 201, response.get_json()
    message = response.get_json()
    assert message["messageType"] == "image" and message["content"] == "look"
    attachment = message["attachment"]
    assert attachment["name"] == "cat.png" and attachment["size"] == len(image)
    assert attachment["contentType"] == "image/png"
    assert attachment["url"] == f"/api/files/{attachment['id']}"
    assert bob.history(room)["messages"][-1]["attachment"] == attachment
    download = bob.call("get", attachment["url"])
    assert download.status_code == 200 and download.data == image
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("data", "kind"), [(PDF, "application/pdf"), (b"meeting notes\n", "text/plain")]
)
def test_other_files_download_as_attachments(room, alice, data, kind):
    message = upload(alice, room, data, name="notes.txt").get_json()
    assert message["messageType"] == "file"
    assert message["attachment"]["contentType"] == kind
    download = alice.call("get", message["attachment"]["url"])
    assert download.headers["Content-Type"].startswith(kind)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "name"), [(SVG, "x.png"), (HTML, "x.jpg"), (EXE, "x.gif"), (b"", "empty.png")]
)
def test_content_is_sniffed_not_trusted(room, alice, data, name):
    response = upload(alice, room, data, name=name, content_type="image/png")
    assert "file" in assert_error(response, 422, "validation_error")["fields"]
    assert Message.objects(room=room).count() == 0 and Attachment.objects.count() == 0


def test_path_names_are_stored_under_random_ids(room, alice, plugin_settings):
    message = upload(alice, room, png(), name="../../../etc/passwd.png").get_json()
    attachment = message["attachment"]
    assert attachment["name"] == "passwd.png"
    assert len(attachment["id"]) == 32 and attachment["id"].isalnum()
    root = Path(plugin_settings["file_sharing"]["directory"])
    stored = [p for p in root.rglob("*") if p.is_file()]
    assert root / attachment["id"][:2] / attachment["id"] in stored
    assert all(p.name.isalnum() for p in stored)


@pytest.fixture
def small_limit(app):
    saved = app.extensions["file_sharing"]["max_bytes"]
    app.extensions["file_sharing"]["max_bytes"] = 1000
    yield 1000
    app.extensions["file_sharing"]["max_bytes"] = saved


def test_oversized_upload_is_413(room, alice, small_limit):
    response = upload(alice, room, b"a" * (small_limit + 70 * 1024), name="big.txt")
    assert_error(response, 413, "payload_too_large")
    assert Message.objects(room=room).count() == 0


def test_file_just_over_the_limit_is_413(room, alice, small_limit):
    assert_error(upload(alice, room, b"a" * (small_limit + 1)), 413, "payload_too_large")
    assert upload(alice, room, b"a" * small_limit).status_code == 201


def test_bad_forms_are_refused(room, alice):
    no_file = alice.call(
        "post",
        f"/api/rooms/{room}/files",
        data={"content": "x"},
        content_type="multipart/form-data",
    )
    assert_error(no_file, 422, "validation_error")
    extra = upload(alice, room, png(), name="a.png", roomId=room)
    assert_error(extra, 422, "validation_error")
    as_json = alice.call("post", f"/api/rooms/{room}/files", json={"file": "x"})
    assert as_json.status_code in (415, 422)
    assert Message.objects(room=room).count() == 0


def test_room_setting_and_membership_are_respected(room, alice, make_user):
    closed = alice.create_room("no files", allowFileSharing=False)["id"]
    assert_error(upload(alice, closed, png()), 403, "forbidden")
    carol = make_user("carol")
    assert_error(upload(carol, room, png()), 403, "forbidden")
    secret = alice.create_room("secret", isPrivate=True)["id"]
    assert_error(upload(carol, secret, png()), 404, "not_found")
    url = upload(alice, room, png()).get_json()["attachment"]["url"]
    assert_error(carol.call("get", url), 404, "not_found")  # public room, not a member
    assert_error(carol.call("get", "/api/files/../../etc/passwd"), 404, "not_found")
    assert_error(alice.call("get", "/api/files/" + "0" * 32), 404, "not_found")


def test_deleting_the_message_hides_and_removes_the_file(room, alice, bob, plugin_settings):
    message = upload(alice, room, png()).get_json()
    url, file_id = message["attachment"]["url"], message["attachment"]["id"]
    assert bob.call("get", url).status_code == 200
    alice.ok("delete", f"/api/messages/{message['id']}", 204)
    assert_error(bob.call("get", url), 404, "not_found")
    assert "attachment" not in bob.history(room)["messages"][-1]
    stored = Path(plugin_settings["file_sharing"]["directory"]) / file_id[:2] / file_id
    deadline = time.monotonic() + 5
    while stored.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stored.exists()


def _avatar(caller, data: bytes, **extra):
    form = {"file": (io.BytesIO(data), "me.png", "image/png"), **extra}
    return caller.call("put", "/api/users/me/avatar", data=form, content_type="multipart/form-data")


def test_avatars_are_stored_as_files_and_shown_to_everyone(alice, make_user, plugin_settings):
    stranger = make_user("stranger")  # shares no room with alice
    first = _avatar(alice, png(4, 4))
    assert first.status_code == 200, first.get_data(as_text=True)
    url = first.get_json()["avatarUrl"]
    assert url.startswith("/api/files/") and first.get_json()["email"] == "alice@example.com"
    assert stranger.ok("get", f"/api/users/{alice.id}")["avatarUrl"] == url
    shown = stranger.call("get", url)
    assert shown.status_code == 200 and shown.data == png(4, 4)
    assert shown.headers["Content-Type"] == "image/png"
    assert alice.client.get(url).status_code == 401  # signed-in users only
    second = _avatar(alice, png(8, 8)).get_json()["avatarUrl"]
    assert second != url and stranger.call("get", url).status_code == 404  # replaced: gone
    store = Path(plugin_settings["file_sharing"]["directory"])
    assert not any(url.rsplit("/", 1)[1] in p.name for p in store.rglob("*"))
    assert alice.ok("delete", "/api/users/me/avatar")["avatarUrl"] is None
    assert stranger.call("get", second).status_code == 404


@pytest.mark.parametrize("data", [PDF, SVG, HTML, EXE, b""])
def test_avatars_are_images(alice, db, data):
    response = _avatar(alice, data)
    assert "file" in assert_error(response, 422, "validation_error")["fields"]
    assert Attachment.objects.count() == 0
    assert alice.ok("get", "/api/users/me")["avatarUrl"] is None


def test_avatars_are_small_and_alone(alice, small_limit):
    big = png(4, 4) + b"\x00" * small_limit  # (the plugin's limit when below 1 MiB)
    assert_error(_avatar(alice, big), 413, "payload_too_large")
    assert_error(_avatar(alice, png(), content="hi"), 422, "validation_error")
    assert Attachment.objects.count() == 0
