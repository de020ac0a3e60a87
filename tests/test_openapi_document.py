"""docs/openapi.json is the REST API the server serves (every built-in plugin loaded),
and what the server sends is in it: a key on the wire missing from the document fails,
plugin fields included (each plugin declares its own with `message_fields`)."""

import json

from chat.models import Message
from chat.plugin_manager import call
from devtools.docs import DOCUMENT


def _served(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def test_the_committed_document_is_what_the_server_serves(app):
    assert _served(app) == json.loads(DOCUMENT.read_text()), (
        "the API changed: run `make docs` and commit docs/openapi.json"
    )


def _documented(app, schema: str) -> set[str]:
    return set(_served(app)["components"]["schemas"][schema]["properties"])


def test_every_key_the_server_sends_is_documented(app, alice, bob):
    room = alice.create_room("documented")
    bob.ok("post", f"/api/rooms/{room['id']}/join")
    message = alice.send(room["id"], "hello @bob", clientId="c1")
    edited = alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "hi"})
    deleted_id = alice.send(room["id"], "gone")["id"]
    alice.ok("delete", f"/api/messages/{deleted_id}", 204)
    history = alice.history(room["id"])["messages"]
    me = alice.ok("get", "/api/users/me")

    stored = Message.objects.get(id=message["id"])
    from_plugins = {key for extra in call("extend_message", message=stored) for key in extra}
    assert {"reactionCounts", "wordCount"} <= from_plugins  # declared by message_fields
    message_keys = _documented(app, "MessageOut")
    for sent in (message, edited, *history):
        assert set(sent) - message_keys == set(), sent
    assert set(room) - _documented(app, "RoomOut") == set()
    assert set(me) - _documented(app, "UserOut") == set()
