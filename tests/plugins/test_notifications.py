"""Notifications plugin: who is notified, listing, read state, preferences, delivery."""

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from chat_notifications.models import Notification
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chat import create_app
from chat.models import User
from chat.services import subscriptions
from devtools.servers import free_port
from tests.conftest import assert_error, callers, eventually, verify_email


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def _notes(caller, **query):
    return caller.ok("get", "/api/notifications", query_string=query)["notifications"]


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_mentions_notify_the_mentioned_member(room, alice, bob):
    message = alice.send(room, "hey @bob, and @alice talks to herself")
    notes = _wait(lambda: _notes(bob))
    assert len(notes) == 1
    note = notes[0]
    assert note["type"] == "mention" and note["roomId"] == room
    assert note["messageId"] == message["id"] and note["actorId"] == alice.id
    assert note["read"] is False and note["createdAt"].endswith("Z")
    time.sleep(0.3)
    assert _notes(alice) == []  # no self-notification


def test_direct_messages_notify_offline_peers(alice, bob):
    direct = alice.ok("post", "/api/rooms/direct", json={"userId": bob.id})["id"]
    alice.send(direct, "are you there?")
    notes = _wait(lambda: _notes(bob))
    assert [n["type"] for n in notes] == ["direct_message"]
    alice.send(direct, "@bob hello")  # a mention in a direct room is one notification
    notes = _wait(lambda: len(_notes(bob)) == 2 and _notes(bob))
    assert [n["type"] for n in notes] == ["mention", "direct_message"]


def test_unread_filter_and_mark_read(room, alice, bob, make_user):
    for i in range(3):
        alice.send(room, f"@bob {i}")
    notes = _wait(lambda: len(_notes(bob)) == 3 and _notes(bob))
    carol = make_user("carol")
    carol.ok("post", "/api/notifications/read", 204, json={"ids": [notes[0]["id"]]})
    assert len(_notes(bob, unread="true")) == 3  # someone else's ids change nothing
    bob.ok("post", "/api/notifications/read", 204, json={"ids": [notes[0]["id"]]})
    assert [n["id"] for n in _notes(bob, unread="true")] == [n["id"] for n in notes[1:]]
    assert len(_notes(bob)) == 3


def test_bad_input_is_refused(bob, db):
    for body in ({"ids": []}, {"ids": ["nope"]}, {"ids": [{"$ne": None}]}, {"ids": "x"}, {}):
        assert_error(
            bob.call("post", "/api/notifications/read", json=body), 422, "validation_error"
        )
    for query in ({"limit": 0}, {"unread": "maybe"}, {"other": 1}):
        assert_error(
            bob.call("get", "/api/notifications", query_string=query), 422, "validation_error"
        )
    assert_error(
        bob.call("put", "/api/notifications/preferences", json={"email": "no"}),
        422,
        "validation_error",
    )


def test_muted_rooms_are_silent(room, alice, bob, make_user):
    prefs = bob.ok("put", "/api/notifications/preferences", json={"mutedRooms": [room]})
    assert prefs == {"mutedRooms": [room], "email": True}
    alice.send(room, "@bob you will not hear this")
    time.sleep(0.5)
    assert _notes(bob) == []
    carol = make_user("carol")
    secret = alice.create_room("secret", isPrivate=True)["id"]
    refused = carol.call("put", "/api/notifications/preferences", json={"mutedRooms": [secret]})
    assert_error(refused, 404, "not_found")


# --- out-of-band delivery: a real HTTP receiver and a real SMTP server ---


class Receiver(BaseHTTPRequestHandler):
    fail_first = 2
    calls: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((dict(self.headers), body))
        self.send_response(500 if len(Receiver.calls) <= Receiver.fail_first else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/hook"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def delivering_app(app, base_settings, receiver, smtp, plugin_settings):
    port, _inbox = smtp
    notifications = {"webhook_url": receiver, "webhook_secret": "s3cret"}
    config = {**plugin_settings, "notifications": notifications}
    fast = {"WEBHOOK_RETRY_SECONDS": 0.05, "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"]}
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_FROM": "chat@example.com"}
    return create_app("testing", **{**base_settings, **fast, **mail, "CHAT_PLUGIN_CONFIG": config})


def _spawn(fn, *args):
    threading.Thread(target=fn, args=args, daemon=True).start()


def _deliver_until(app, done, timeout: float = 10.0):
    """Run the upkeep loop's delivery job (this in-process app runs no loop) until done()."""
    with app.app_context():
        return eventually(lambda: subscriptions.dispatch(_spawn) >= 0 and done(), timeout)


def _callers(app):
    return callers(app, "dora", "evan")


def test_webhooks_are_signed_and_retried(delivering_app):
    """The plugin's webhook is the core's durable delivery: stored, retried with
    backoff, signed to the Standard Webhooks spec with the configured secret."""
    dora, evan = _callers(delivering_app)
    room = dora.create_room("hooks")["id"]
    evan.ok("post", f"/api/rooms/{room}/join")
    message = dora.send(room, "@evan ping")
    assert _deliver_until(delivering_app, lambda: len(Receiver.calls) >= 3)
    time.sleep(0.3)
    _deliver_until(delivering_app, lambda: True)
    assert len(Receiver.calls) == 3  # two 500s, then delivered: no further attempts
    headers, body = Receiver.calls[-1]
    secret = "whsec_" + base64.b64encode(b"s3cret").decode()
    payload = Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
    assert len({h["webhook-id"] for h, _ in Receiver.calls}) == 1  # one delivery, retried
    assert payload["type"] == "notification"
    data = payload["data"]
    assert data["notification"]["type"] == "mention"
    assert data["message"]["id"] == message["id"] and data["room"]["name"] == "hooks"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"ping", b"pong"), headers)


def test_offline_users_get_an_email_unless_they_opt_out(delivering_app, smtp):
    _port, inbox = smtp
    dora, evan = _callers(delivering_app)
    room = dora.create_room("mail")["id"]
    evan.ok("post", f"/api/rooms/{room}/join")
    dora.send(room, "@evan before")  # evan's address is not verified: no email
    _wait(lambda: Notification.objects(user=evan.id).count() == 1)
    time.sleep(0.5)
    assert inbox.messages == []
    verify_email(evan.client, evan.headers, inbox)
    dora.send(room, "@evan <script>alert(1)</script> see you")
    assert _wait(lambda: inbox.messages)
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["evan@example.com"]
    text = envelope.content.decode()
    assert "Subject: dora mentioned you in mail" in text
    assert "&lt;script&gt;" in text and "<script>alert" not in text.split("text/html", 1)[1]
    evan.ok("put", "/api/notifications/preferences", json={"email": False})
    dora.send(room, "@evan again")
    _wait(lambda: Notification.objects(user=evan.id).count() == 3)
    time.sleep(0.5)
    assert len(inbox.messages) == 1


def test_an_unreachable_mail_server_is_logged_not_raised(
    app, base_settings, plugin_settings, caplog
):
    """The failure path runs in the background, outside any app context (it used to call
    `current_app` there and die with a RuntimeError instead of logging)."""
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "MAIL_FROM": "c@x.org"}
    failing = create_app("testing", **{**base_settings, **mail})
    dora, evan = callers(failing, "dora", "evan")
    room = dora.create_room("down")["id"]
    evan.ok("post", f"/api/rooms/{room}/join")
    # verified before the mail server went away (its own check mail cannot go out now)
    User.objects(id=evan.id).update_one(set__email_verified=True)
    with caplog.at_level("WARNING", logger="chat.mail"):
        dora.send(room, "@evan are you there")
        assert _wait(lambda: "an email could not be sent" in caplog.text)


def test_mail_is_configured_once():
    """The plugin mails through the server's SMTP settings; its old ones are refused
    when it starts (its startup hook, on an app of its own: a create_app that fails
    halfway would leave the process's OpenAPI document half built)."""
    import chat_notifications as notifications
    from flask import Flask

    from chat.settings import ConfigError

    bare = Flask(__name__)
    bare.config["CHAT_PLUGIN_CONFIG"] = {"notifications": {"smtp_host": "127.0.0.1"}}
    with pytest.raises(ConfigError, match="smtp_host moved to the server's SMTP_HOST"):
        notifications.startup(bare)
    bare.config["CHAT_PLUGIN_CONFIG"] = {"notifications": {"email": False}}
    notifications.startup(bare)
    assert bare.extensions["notifications"]["email"] is False
    # a webhook that could not be signed, or is not http(s), is refused: fail closed
    for hook, problem in [
        ({"webhook_url": "ftp://hooks.example/x", "webhook_secret": "s"}, "http\\(s\\) URL"),
        ({"webhook_url": "https://hooks.example/x"}, "needs a webhook_secret"),
    ]:
        bare.config["CHAT_PLUGIN_CONFIG"] = {"notifications": hook}
        with pytest.raises(ConfigError, match=problem):
            notifications.startup(bare)


def test_nothing_leaves_the_process_by_default(room, alice, bob, app):
    assert not app.extensions["notifications"].get("webhook_url")
    assert not app.config["SMTP_HOST"]  # no mail server: no email
