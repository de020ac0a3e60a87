"""docs/asyncapi.yaml is the socket protocol as the code defines it, valid AsyncAPI 3.0,
and what the server emits is in it: every ack and every event a live server sends is
validated against the document, where an undocumented key, a missing required key or
an undocumented event fails."""

import json

import jsonschema
import pytest
import yaml

from devtools import asyncapi
from devtools.servers import ROOT

# the AsyncAPI Initiative's JSON Schema of the 3.0.0 specification (npm @asyncapi/specs)
SPEC = ROOT / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0-without-$id.json"


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(asyncapi.DOCUMENT.read_text())


def test_the_committed_document_is_generated_from_the_code(app, document):
    assert asyncapi.build(app) == document, "the protocol changed: run `make docs`"


def test_the_document_is_valid_asyncapi_3(document):
    spec = json.loads(SPEC.read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(spec).iter_errors(document)]
    assert errors == []


def _strict(node):
    """Every documented object refuses keys it does not list."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if "properties" in out:
        out["additionalProperties"] = False
    return out


class Wire:
    """Validates payloads against the document's messages."""

    def __init__(self, document: dict):
        self.components = _strict(document["components"])
        operations = document["operations"].items()
        self.client = {n for n, o in operations if o["action"] == "receive"}
        self.server = {n for n, o in operations if o["action"] == "send"}

    def check(self, message: str, payload) -> None:
        assert message in self.components["messages"], f"{message} is not documented"
        pointer = f"#/components/messages/{message}/payload"
        validator = jsonschema.Draft7Validator({"components": self.components, "$ref": pointer})
        errors = [
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(payload)
        ]
        assert errors == [], (message, payload)


def test_what_the_server_emits_is_documented(document, people):
    wire = Wire(document)
    alice, bob, carol = people("alice", "bob", "carol")
    room = alice.create_room()
    a, b = alice.socket(), bob.socket()
    acks: dict[str, list] = {}

    def call(sock, event, payload):
        ack = sock.call(event, payload)
        acks.setdefault(event, []).append(ack)
        return ack

    cursor = call(a, "sync_all", {})["cursor"]
    assert call(b, "join_room", {"roomId": room})["ok"]
    call(b, "typing_start", {"roomId": room})
    call(b, "typing_stop", {"roomId": room})
    sent = call(b, "send_message", {"roomId": room, "content": "hi @alice", "clientId": "w1"})
    message = sent["message"]["id"]
    call(b, "edit_message", {"messageId": message, "content": "hello @alice"})
    call(b, "mark_read", {"roomId": room, "messageId": message})
    quoting = {"roomId": room, "content": "quoting", "quotedMessageId": message}
    call(a, "send_message", quoting)
    reply = {"roomId": room, "content": "in a thread", "parentId": message, "alsoInRoom": True}
    call(a, "send_message", reply)  # thread_updated, and a reply's fields
    call(a, "add_reaction", {"messageId": message, "emoji": "👍"})
    call(a, "remove_reaction", {"messageId": message, "emoji": "👍"})
    call(a, "sync", {"roomId": room})
    call(a, "sync_all", {"since": cursor})
    call(a, "send_message", {"roomId": "not an id", "content": "x"})  # refused
    alice.ok("put", f"/api/rooms/{room}", json={"description": "documented"})
    alice.ok("patch", "/api/users/me", json={"status": {"text": "documenting", "emoji": "📝"}})
    carol.ok("post", f"/api/rooms/{room}/join")
    carol.socket()  # comes online: presence
    call(b, "delete_message", {"messageId": message})
    call(b, "leave_room", {"roomId": room})
    a.wait_for("user_left")
    a.wait_for("presence")
    a.wait_for("notification")
    a.wait_for("read_updated")

    assert set(acks) == wire.client  # every client event was tried
    assert not acks["send_message"][-1]["ok"]  # and a refusal too
    for event, answers in acks.items():
        for ack in answers:
            wire.check(f"{event}_ack", ack)
    received = set()
    for sock in (a, b):
        with sock.lock:
            events = {name: list(payloads) for name, payloads in sock.events.items()}
        for name, payloads in events.items():
            received.add(name)
            for payload in payloads:
                wire.check(name, payload)
    assert received == wire.server  # every server event was seen
