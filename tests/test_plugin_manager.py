"""The plugin system: discovery, configuration, every hook, isolation and metrics."""

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from chat import create_app, hookimpl
from chat.models import Message, Room
from chat.settings import ConfigError
from tests.conftest import assert_error, callers
from tests.processes import server

SAMPLES = str(Path(__file__).parent / "plugins" / "sample_plugins")
BUILT_IN = ("reactions", "file_sharing", "notifications")


def _names(app) -> set[str]:
    return {name for name, _ in app.extensions["plugins"].list_name_plugin()}


def _app(base_settings, **settings):
    return create_app("testing", **{**base_settings, **settings})


def _people(app, *names):
    return callers(app, *names)


def test_default_entry_point_and_folder_plugins_are_found(app):
    assert _names(app) == {"chat.default_plugins", "wordcount", *BUILT_IN}


def test_entry_point_plugin_from_its_own_package_works(alice):
    room = alice.create_room()["id"]
    assert alice.send(room, "three little words")["wordCount"] == 3


def test_enable_block_and_autoload(base_settings):
    assert _names(_app(base_settings, CHAT_PLUGINS=["reactions"])) == {
        "chat.default_plugins",
        "reactions",
    }
    blocked = _names(_app(base_settings, CHAT_PLUGINS_BLOCKED=["wordcount", "reactions"]))
    assert blocked == {"chat.default_plugins", "file_sharing", "notifications"}
    assert _names(_app(base_settings, CHAT_PLUGINS_AUTOLOAD=False)) == {"chat.default_plugins"}


def test_environment_configures_plugins(monkeypatch):
    from chat.settings import load_config

    monkeypatch.setenv("CHAT_PLUGINS_BLOCKED", "reactions, notifications")
    monkeypatch.setenv("CHAT_PLUGINS_AUTOLOAD", "false")
    monkeypatch.setenv("CHAT_PLUGIN_CONFIG", '{"file_sharing": {"max_bytes": 5}}')
    settings = load_config("testing")
    assert settings["CHAT_PLUGINS_BLOCKED"] == ["reactions", "notifications"]
    assert settings["CHAT_PLUGINS_AUTOLOAD"] is False
    assert settings["CHAT_PLUGIN_CONFIG"] == {"file_sharing": {"max_bytes": 5}}
    monkeypatch.setenv("CHAT_PLUGIN_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="CHAT_PLUGIN_CONFIG"):
        load_config("testing")


def test_per_plugin_settings_reach_the_plugin(base_settings, plugin_settings):
    config = {
        **plugin_settings,
        "file_sharing": {**plugin_settings["file_sharing"], "max_bytes": 1234},
    }
    app = _app(base_settings, CHAT_PLUGIN_CONFIG=config)
    assert app.extensions["file_sharing"]["max_bytes"] == 1234


@pytest.mark.parametrize("blocked", BUILT_IN)
def test_each_built_in_plugin_can_be_disabled(base_settings, blocked):
    app = _app(base_settings, CHAT_PLUGINS_BLOCKED=[blocked])
    alice, bob = _people(app, f"a{blocked}", f"b{blocked}")
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    message = alice.send(room, f"@b{blocked} hello")
    assert bob.history(room)["messages"] == [message]
    paths = {
        "reactions": (
            "post",
            f"/api/messages/{message['id']}/reactions",
            {"json": {"emoji": "👍"}},
        ),
        "file_sharing": ("get", f"/api/files/{'0' * 32}", {}),
        "notifications": ("get", "/api/notifications", {}),
    }
    method, path, kwargs = paths[blocked]
    assert_error(alice.call(method, path, **kwargs), 404, "not_found")
    assert ("reactionCounts" in message) == (blocked != "reactions")


def test_flask_plugins_list(app):
    result = CliRunner().invoke(app.cli, ["plugins", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert set(lines) == _names(app)
    assert "register_blueprints" in lines["reactions"] and "track_event" in lines["notifications"]


# --- the sample plugins in tests/plugins/sample_plugins exercise every hook ---


@pytest.fixture
def sample_app(app, base_settings):
    blocked = ["wordcount", *BUILT_IN]  # the samples alone
    return _app(base_settings, CHAT_PLUGINS_DIR=SAMPLES, CHAT_PLUGINS_BLOCKED=blocked)


def test_local_folder_plugins_load_modules_and_packages(sample_app):
    assert _names(sample_app) == {"chat.default_plugins", "broken", "slow", "rules", "polls"}


def test_register_blueprints_register_commands_and_startup(sample_app):
    assert sample_app.test_client().get("/rules/ping").get_json() == {"pong": True}
    result = CliRunner().invoke(sample_app.cli, ["rules-hello"])
    assert result.output.strip() == "hello from rules"
    assert sample_app.extensions["rules_started"] is True


def test_register_slash_commands_adds_and_replaces(sample_app):
    (alice,) = _people(sample_app, "alice")
    room = alice.create_room()["id"]
    listed = {c["name"]: c for c in alice.ok("get", "/api/commands")["commands"]}
    assert listed["roll"]["usage"] == "/roll" and "help" in listed
    assert listed["me"]["description"] == "replaced by the rules"  # the plugin's wins
    assert alice.send(room, "/roll")["content"] == "alice rolled a 4"
    answer = alice.ok("post", "/api/messages", 202, json={"roomId": room, "content": "/me hi"})
    assert answer == {"command": "me", "text": "no emotes"}


def test_validate_message_rejects_with_a_code_and_transforms(sample_app):
    (alice,) = _people(sample_app, "alice")
    room = alice.create_room()["id"]
    refused = alice.call("post", "/api/messages", json={"roomId": room, "content": "frobnicate!"})
    assert assert_error(refused, 422, "validation_error")["fields"] == {
        "content": ["Contains a banned word."]
    }
    assert Message.objects(room=room).count() == 0
    refusals = sample_app.extensions["metrics"].hook_calls.labels(
        "validate_message", "validation_error"
    )
    assert refusals._value.get() == 1  # labelled by the plugin's error code
    message = alice.send(room, "well /shrug")
    assert message["content"] == "well ¯\\_(ツ)_/¯"
    assert message["checkedBy"] == "rules"  # extend_message, from data set while validating
    edited = alice.ok("patch", f"/api/messages/{message['id']}", json={"content": "/shrug"})
    assert edited["content"] == "¯\\_(ツ)_/¯"


def test_permission_allowed_can_deny_and_allow(sample_app):
    mallory, moderator, alice = _people(sample_app, "mallory", "moderator", "alice")
    assert_error(mallory.call("post", "/api/rooms", json={"name": "x"}), 403, "forbidden")
    assert Room.objects(name="x").count() == 0
    room = alice.create_room()["id"]
    moderator.ok("post", f"/api/rooms/{room}/join")
    message = alice.send(room, "moderate me")
    moderator.ok("delete", f"/api/messages/{message['id']}", 204)  # not sender, not admin
    assert Message.objects.get(id=message["id"]).deleted is True


def test_failing_and_slow_plugins_never_break_or_delay_a_send(sample_app):
    (alice,) = _people(sample_app, "alice")
    room = alice.create_room()["id"]
    started = time.perf_counter()
    message = alice.send(room, "still works")
    assert time.perf_counter() - started < 1.0  # slow's 1.5 s track_event runs aside
    assert message["content"] == "still works" and "checkedBy" in message
    assert Message.objects(room=room).count() == 1
    metrics = sample_app.extensions["metrics"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if metrics.hook_calls.labels("track_event", "ok")._value.get() >= 1:
            break
        time.sleep(0.1)
    assert metrics.hook_calls.labels("track_event", "error")._value.get() >= 1
    assert metrics.hook_calls.labels("track_event", "ok")._value.get() >= 1
    assert metrics.hook_calls.labels("extend_message", "error")._value.get() >= 1
    assert metrics.hook_calls.labels("validate_message", "error")._value.get() >= 1
    text = sample_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'chat_plugin_hook_calls_total{hook="track_event",outcome="error"}' in text
    assert 'chat_plugin_hook_seconds_count{hook="track_event"}' in text


def test_register_actions_puts_a_plugins_actions_under_the_policy(app, sample_app):
    from chat.services import policy

    with sample_app.app_context():
        act = policy.action("rules_ping")  # registered by the rules sample's register_actions
        kick = policy.action("kick_member")  # the sample names it too, loosely
        table = policy.table()
        with pytest.raises(LookupError):
            policy.action("never_declared")
    assert (act.scope, act.role, act.summary) == (None, "anyone", "ping the rules plugin")
    assert kick == policy.CORE_ACTIONS["kick_member"] and kick.role == "admin"
    assert "| `rules_ping` | ping the rules plugin | session only | anyone signed in |" in table
    with app.app_context():  # another app's plugins are not its
        assert "rules_ping" not in policy.actions()


def test_a_plugin_view_that_fails_answers_in_the_contracts_envelope(sample_app, caplog):
    """A bug in a plugin's view is a 500 in the envelope, logged, and a database out of
    reach a 503; the app goes on serving."""
    client = sample_app.test_client()
    assert_error(client.get("/rules/crash"), 500, "internal_error")
    assert "unhandled error on GET /rules/crash" in caplog.text
    assert_error(client.get("/rules/unreachable"), 503, "unavailable")
    assert client.get("/rules/ping").get_json() == {"pong": True}


def test_message_changes_are_synced_like_the_cores(sample_app):
    """A plugin's kind of message change arrives through sync once, with the message;
    one no plugin declares is passed over at once (it held the room's sync 10 s)."""
    from chat.plugin_api import change_message

    (alice,) = _people(sample_app, "alice")
    room = alice.create_room()["id"]
    cursor = alice.ok("get", "/api/sync")["cursor"]
    flagged = alice.send(room, "flag me")
    with sample_app.app_context():
        stored = Message.objects.get(id=flagged["id"])
        change_message(stored, "rules_flagged", {"$set": {"data.flagged": True}})
        change_message(stored, "nobody_declares_this", {"$set": {"data.other": 1}})
    after = alice.send(room, "after")
    changes = alice.ok("get", "/api/sync", query_string={"since": cursor})["changes"]
    assert [(c["type"], c["data"].get("message", {}).get("id")) for c in changes] == [
        ("message_created", flagged["id"]),
        ("rules_flagged", flagged["id"]),
        ("message_created", after["id"]),
    ]


def test_a_poll_plugin_needs_nothing_of_the_core_but_its_hooks(sample_app):
    """The polls sample (chat.plugin_api only): its message type is posted through the
    plugin, never as a plain message; its votes are a change kind synced once with the
    poll's state; its actions are the policy's (a non-member is refused)."""
    alice, bob, eve = _people(sample_app, "alice", "bob", "eve")
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    cursor = bob.ok("get", "/api/sync")["cursor"]
    body = {"roomId": room, "question": "Lunch?", "options": ["pizza", "soup"]}
    poll = alice.ok("post", "/api/polls", 201, json=body)
    assert poll["messageType"] == "poll" and poll["poll"] == {
        "options": ["pizza", "soup"], "tally": [0, 0]}  # fmt: skip
    plain = {"roomId": room, "content": "fake poll", "messageType": "poll"}
    assert_error(alice.call("post", "/api/messages", json=plain), 422, "validation_error")
    voted = bob.ok("post", f"/api/polls/{poll['id']}/votes", json={"option": 1})
    assert voted["poll"]["tally"] == [0, 1]
    bob.ok("post", f"/api/polls/{poll['id']}/votes", json={"option": 0})  # changed
    refused = eve.call("post", f"/api/polls/{poll['id']}/votes", json={"option": 0})
    assert_error(refused, 403, "forbidden")  # not a member of the (public) room
    bad = bob.call("post", f"/api/polls/{poll['id']}/votes", json={"option": 7})
    assert_error(bad, 422, "validation_error")
    changes = bob.ok("get", "/api/sync", query_string={"since": cursor})["changes"]
    seen = [(c["type"], c["data"]["message"]["poll"]["tally"]) for c in changes]
    # each vote once; the data is the poll as it is now
    assert seen == [("message_created", [1, 0]), ("poll_voted", [1, 0]), ("poll_voted", [1, 0])]
    history = bob.history(room)["messages"]
    assert [(m["messageType"], m["poll"]["tally"]) for m in history] == [("poll", [1, 0])]


def test_register_socket_events_and_isolation_over_a_socket(app, live_settings, people):
    settings = {**live_settings, "CHAT_PLUGINS_DIR": SAMPLES}
    settings["CHAT_PLUGINS_BLOCKED"] = ",".join(["wordcount", *BUILT_IN])
    with server(settings) as (base, _):
        alice = people("alice", base=base)
        sock = alice.socket(base=base)
        assert sock.call("rules_ping", {}) == {"ok": True, "pong": "alice"}
        room = alice.create_room()
        ack = sock.call("send_message", {"roomId": room, "content": "/shrug"})
        assert ack["ok"] and ack["message"]["content"] == "¯\\_(ツ)_/¯"
        refused = sock.call("send_message", {"roomId": room, "content": "frobnicate"})
        assert refused["error"]["code"] == "validation_error"


class _BrokenRule:
    @hookimpl
    def permission_allowed(self, action):
        raise RuntimeError("a rule that breaks")


class _Wrapper:
    """A pluggy wrapper around extend_message: it sees what the isolated calls gave."""

    @hookimpl(wrapper=True)
    def extend_message(self, message):
        results = yield
        return [*results, {"answers": len(results)}]


def test_isolation_runs_inside_pluggys_own_call(app, base_settings):
    """A rule that raises denies (never fails open); a failing extend_message is skipped
    inside pluggy's call, which wrappers still see whole."""
    samples = _app(base_settings, CHAT_PLUGINS_DIR=SAMPLES, CHAT_PLUGINS_BLOCKED=list(BUILT_IN))
    pm = samples.extensions["plugins"]
    pm.register(_Wrapper(), name="wrapper")
    (alice,) = _people(samples, "alice")
    room = alice.create_room()["id"]
    message = alice.send(room, "hello")
    # rules and wordcount answered; broken raised and was skipped
    assert message["answers"] == 2 and message["wordCount"] == 1
    pm.register(_BrokenRule(), name="broken_rule")
    refused = alice.call("post", "/api/rooms", json={"name": "another"})
    assert_error(refused, 403, "forbidden")
    calls = samples.extensions["metrics"].hook_calls
    assert calls.labels("permission_allowed", "error")._value.get() >= 1
