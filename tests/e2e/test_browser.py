"""The web client in headless Chromium (Debian's, driven by Playwright): two people chat."""

import email
import email.policy
import os
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from devtools.servers import free_port
from tests.conftest import eventually
from tests.plugins.files import png
from tests.processes import server

CHROMIUM = "/usr/bin/chromium"
# What a person sees must appear; how fast is the benchmark's business: the suite runs
# beside three test workers and their servers on two cores.
expect.set_options(timeout=15_000)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "apt-get install chromium (make test does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: CHAT_SCREENSHOTS (docs/screenshots for `make screenshots`)."""
    folder = Path(os.environ.get("CHAT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Person:
    def __init__(self, browser, base: str, name: str):
        self.context = browser.new_context(viewport={"width": 1200, "height": 760})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.answer = None
        self.base, self.name = base, name

    def _dialog(self, dialog):
        if dialog.type == "alert":
            self.errors.append(f"alert: {dialog.message}")
        answer = self.answer.pop(0) if isinstance(self.answer, list) else self.answer
        dialog.accept(answer) if answer is not None else dialog.accept()

    def register(self):
        page = self.page
        page.goto(self.base)
        page.click("#tab-register")
        page.fill("#auth-username", self.name)
        page.fill("#auth-email", f"{self.name}@example.com")
        page.fill("#auth-password", "correct horse battery")
        page.click("#auth-submit")
        expect(page.locator("#me-name")).to_have_text(self.name)
        expect(page.locator("#conn")).to_have_class(re.compile(r"\bup\b"))

    def send(self, text: str):
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")

    def message(self, text: str):
        return self.page.locator("#message-list .message", has_text=text)

    def token(self) -> str:
        return self.page.evaluate("() => window.chat.access")


def test_two_people_chat_in_the_browser(browser, live, shots):
    alice, bob = Person(browser, live, "alice"), Person(browser, live, "bob")
    alice.page.goto(live)
    alice.page.screenshot(path=shots / "login.png")
    alice.register()
    bob.register()

    # alice creates a room; bob finds it and joins
    alice.page.fill("#new-room-name", "general")
    alice.page.click("#new-room button")
    expect(alice.page.locator("#room-title")).to_have_text("general")
    bob.page.reload()
    bob.page.locator("#rooms li", has_text="general").locator(".join").click()
    expect(bob.page.locator("#room-title")).to_have_text("general")
    expect(alice.page.locator("#room-meta")).to_contain_text("2 members")

    # typing, then a message with markup and a link, rendered as text
    bob.page.type("#text", "hi alice")
    expect(alice.page.locator("#typing")).to_have_text("bob is typing…")
    bob.page.fill("#text", "")
    bob.send("hi alice <img src=x onerror=alert(1)> see https://example.com/docs")
    message = alice.message("hi alice")
    expect(message.locator(".body")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(message.locator(".body img")).to_have_count(0)
    expect(message.locator(".body a")).to_have_attribute("href", "https://example.com/docs")
    expect(alice.page.locator("#typing")).to_have_text("")

    # a reaction travels both ways
    message.locator(".add-reaction").click()
    message.locator(".palette button", has_text="🎉").click()
    expect(bob.message("hi alice").locator(".reaction")).to_have_text("🎉 1")

    # an image upload shows up for bob
    image = shots / "upload.png"
    image.write_bytes(png(40, 30))
    alice.page.set_input_files("#file", str(image))
    picture = bob.page.locator("img.attachment")
    expect(picture).to_have_count(1)
    expect(picture).to_have_js_property("naturalWidth", 40)

    # edit and delete own messages
    bob.answer = "hi alice (edited)"
    bob.message("hi alice").locator("button", has_text="edit").click()
    expect(alice.message("hi alice (edited)").locator(".meta")).to_contain_text("(edited)")
    bob.send("a mistake")
    bob.answer = None
    bob.message("a mistake").locator("button", has_text="delete").click()
    expect(alice.page.locator(".message.deleted")).to_have_text(re.compile("deleted"))

    # a mention notifies bob
    alice.send("@bob lunch?")
    expect(bob.page.locator("#bell-count")).to_have_text("1")
    alice.page.screenshot(path=shots / "chat.png")
    bob.page.screenshot(path=shots / "chat-bob.png")

    # slash commands: completion, one that posts, one that answers its sender alone
    alice.page.fill("#text", "/sh")
    expect(alice.page.locator("#command-hint")).to_contain_text("/shrug [text]")
    alice.page.press("#text", "Tab")
    expect(alice.page.locator("#text")).to_have_value("/shrug ")
    alice.page.type("#text", "fine")
    alice.page.press("#text", "Enter")
    expect(bob.message("fine ¯\\_(ツ)_/¯")).to_have_count(1)
    alice.page.fill("#text", "/help")
    alice.page.press("#text", "Enter")
    expect(alice.page.locator("#command-hint")).to_contain_text("/invite @user")

    # bob drops off the network; messages sent meanwhile arrive once after he is back
    bob.context.set_offline(True)
    bob.page.evaluate("window.chat.socket.io.engine.close()")
    expect(bob.page.locator("body")).to_have_attribute("data-connected", "no")
    for i in range(3):  # one at a time: the server's order is the order of the acks
        alice.send(f"while you were away {i}")
        expect(alice.message(f"while you were away {i}")).to_have_count(1)
    bob.context.set_offline(False)
    expect(bob.page.locator("body")).to_have_attribute("data-connected", "yes", timeout=15000)
    for i in range(3):
        expect(bob.message(f"while you were away {i}")).to_have_count(1)
    texts = bob.page.locator(".message .body").all_inner_texts()
    away = [t for t in texts if t.startswith("while you were away")]
    assert away == [f"while you were away {i}" for i in range(3)]
    assert alice.errors == [] and bob.errors == []
    alice.context.close()
    bob.context.close()


def test_a_membership_flood_costs_other_clients_nothing(browser, live):
    """RELIABILITY row 32: someone joins and leaves a room 100 times while bob's client
    has it open; bob's page makes O(1) requests (the events carry what it needs) and
    ends with the right member list."""
    from tests.sockets.client import Person as ApiPerson

    bob = Person(browser, live, "bobflood")
    bob.register()
    requests_made: list[str] = []
    bob.page.on("request", lambda r: requests_made.append(r.url) if "/api/" in r.url else None)
    flooder = ApiPerson(live, "flooder")
    room = flooder.create_room("busy")
    bob_id = bob.page.evaluate("() => window.chat.me.id")
    flooder.ok("post", f"/api/rooms/{room}/members", json={"userId": bob_id})
    bob.page.reload()
    expect(bob.page.locator("#rooms li", has_text="busy")).to_have_count(1)
    bob.page.locator("#rooms li", has_text="busy").click()
    requests_made.clear()
    outsider = ApiPerson(live, "comesgoes")
    sock = outsider.socket()
    for _ in range(50):
        assert sock.call("join_room", {"roomId": room})["ok"]
        assert sock.call("leave_room", {"roomId": room})["ok"]
    assert sock.call("join_room", {"roomId": room})["ok"]
    bob.page.wait_for_timeout(3000)
    members = bob.page.evaluate(f"() => window.chat.rooms.get({room!r}).participants.length")
    print(f"\nrow 32 (web client): {len(requests_made)} requests for 101 membership events")
    assert len(requests_made) <= 3 and members == 3
    assert bob.errors == []
    outsider.close()
    flooder.close()


def test_threads_pins_receipts_profiles_and_an_offline_period(browser, live):
    """Issue 16 in the browser: a profile change (display name, status, avatar), a
    thread, a pin, a read receipt, and edits and deletes made while a client was
    offline, shown right once it is back."""
    alice, bob = Person(browser, live, "alice"), Person(browser, live, "bob")
    alice.register()
    bob.register()
    alice.page.fill("#new-room-name", "team")
    alice.page.click("#new-room button")
    expect(alice.page.locator("#room-title")).to_have_text("team")
    bob.page.reload()
    bob.page.locator("#rooms li", has_text="team").locator(".join").click()
    expect(bob.page.locator("#room-title")).to_have_text("team")
    alice.send("hello team")
    expect(bob.message("hello team")).to_have_count(1)

    # alice's profile: bob's page follows (user_updated), avatar included
    alice.answer = ["Alice Liddell", "down the rabbit hole"]
    alice.page.click("#profile")
    expect(alice.page.locator("#me-name")).to_have_text("Alice Liddell")
    shown = bob.message("hello team")
    expect(shown.locator(".sender")).to_have_text("Alice Liddell")
    expect(shown.locator(".status")).to_have_text("down the rabbit hole")
    image = {"file": ("me.png", png(16, 16), "image/png")}
    headers = {"Authorization": f"Bearer {alice.token()}"}
    assert requests.put(f"{live}/api/users/me/avatar", files=image, headers=headers, timeout=10).ok
    expect(shown.locator("img.avatar")).to_have_js_property("naturalWidth", 16)

    # a thread: bob replies; alice's room shows a reply count, the thread the reply
    shown.locator("button", has_text="reply").click()
    bob.page.fill("#thread-text", "answering in the thread")
    bob.page.press("#thread-text", "Enter")
    expect(bob.page.locator("#thread-list .message", has_text="answering")).to_have_count(1)
    link = alice.message("hello team").locator(".thread-link")
    expect(link).to_have_text("1 reply")
    expect(alice.message("answering in the thread")).to_have_count(0)
    link.click()
    expect(alice.page.locator("#thread-list .message", has_text="answering")).to_have_count(1)

    # a pin by alice (the room's owner) shows for bob
    alice.message("hello team").locator("button", has_text="pin").first.click()
    expect(bob.message("hello team").locator(".pinned")).to_have_count(1)

    # a read receipt: bob has the room open, so alice sees he read her newest message
    alice.send("typo heer")
    expect(bob.message("typo heer")).to_have_count(1)
    expect(alice.page.locator("#seen")).to_have_text("Seen by bob", timeout=10000)

    # bob is offline while alice edits one message and deletes another
    alice.send("soon gone")
    expect(bob.message("soon gone")).to_have_count(1)
    bob.context.set_offline(True)
    bob.page.evaluate("window.chat.socket.io.engine.close()")
    expect(bob.page.locator("body")).to_have_attribute("data-connected", "no")
    alice.answer = "typo here"
    alice.message("typo heer").locator("button", has_text="edit").click()
    expect(alice.message("typo here")).to_have_count(1)
    alice.answer = None
    alice.message("soon gone").locator("button", has_text="delete").click()
    expect(alice.message("soon gone")).to_have_count(0)
    bob.context.set_offline(False)
    expect(bob.page.locator("body")).to_have_attribute("data-connected", "yes", timeout=15000)
    expect(bob.message("typo here").locator(".meta")).to_contain_text("(edited)")
    expect(bob.message("typo heer")).to_have_count(0)
    expect(bob.message("soon gone")).to_have_count(0)
    expect(bob.page.locator("#message-list .message.deleted")).to_have_count(1)
    # search finds the edited text (not the old one) and opens its room
    bob.page.fill("#search-q", "TYPO")
    bob.page.press("#search-q", "Enter")
    expect(bob.page.locator("#search-results li")).to_have_count(1)
    expect(bob.page.locator("#search-results li")).to_contain_text("typo here")
    bob.page.fill("#search-q", "heer")
    bob.page.press("#search-q", "Enter")
    expect(bob.page.locator("#search-results li")).to_have_text("Nothing found.")
    assert alice.errors == [] and bob.errors == []
    alice.context.close()
    bob.context.close()


def test_an_invite_link_signs_someone_up_into_a_private_room(browser, live):
    alice, carol = Person(browser, live, "alice"), Person(browser, live, "carol")
    alice.register()
    alice.page.fill("#new-room-name", "crew")
    alice.page.check("#new-room-private")
    alice.page.click("#new-room button")
    expect(alice.page.locator("#room-title")).to_have_text("crew")
    alice.page.click("#invite-link")
    url = alice.page.locator("#invite-url")
    expect(url).to_be_visible()
    link = url.input_value()
    assert link.startswith(f"{live}/#invite=")

    page = carol.page
    page.goto(link)
    expect(page.locator("#invite-info")).to_have_text("You are invited to crew.")
    expect(page.locator("#auth-submit")).to_have_text("Create account")
    page.fill("#auth-username", "carol")
    page.fill("#auth-email", "carol@example.com")
    page.fill("#auth-password", "correct horse battery")
    page.click("#auth-submit")
    expect(page.locator("#me-name")).to_have_text("carol")
    expect(page.locator("#room-title")).to_have_text("crew")  # the private room, joined
    assert "#invite" not in page.url
    expect(alice.page.locator("#room-meta")).to_contain_text("2 members")

    used = Person(browser, live, "dave")  # the link was for one person
    used.page.goto(link)
    expect(used.page.locator("#invite-info")).to_contain_text("not valid")
    assert alice.errors == carol.errors == used.errors == []


def test_a_person_verifies_their_address_in_the_browser(browser, live_settings, smtp):
    smtp_port, inbox = smtp
    port = free_port()
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port,
            "PUBLIC_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    with server({**live_settings, **mail}, port=port) as (base, _):
        erin = Person(browser, base, "erin")
        erin.register()
        expect(erin.page.locator("#verify")).to_be_visible()
        erin.page.click("#verify-send")
        expect(erin.page.locator("#verify")).to_contain_text("on its way")
        assert eventually(lambda: inbox.messages, timeout=15)
        sent = email.message_from_bytes(inbox.messages[0].content, policy=email.policy.default)
        text = sent.get_body(("plain",)).get_content()
        link = re.search(r"Open (\S+)", text).group(1)
        assert link.startswith(f"{base}/#verify-email=")
        erin.page.goto(link)
        expect(erin.page.locator("#me-name")).to_have_text("erin")
        expect(erin.page.locator("#verify")).to_be_hidden()
        me = requests.get(f"{base}/api/users/me", timeout=10,
                          headers={"Authorization": f"Bearer {erin.token()}"}).json()  # fmt: skip
        assert me["emailVerified"] is True
        assert erin.errors == ["alert: Your email address is verified."]
