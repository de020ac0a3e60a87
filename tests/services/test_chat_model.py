"""A hypothesis state machine over rooms, membership, sends, resends, edits, deletes, reactions,
kicks, adds, and clients that sync now and then (each sync a reconnect after time away).

Invariants (RELIABILITY.md rows 25 and 35): per-room seq unique and increasing, one
message per clientId, `sync` returns exactly the messages a user may see, once each,
and after `sync_all` a client's rooms and messages equal the server's, every change
having arrived once, in rev order per room.
"""

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from chat.actor import Actor
from chat.models import Message, Room, User
from chat.services import messages
from chat.store import changelog
from tests.conftest import AuthActions, Caller, clear_database

NAMES = ("ann", "ben", "cid")


class ChatModel(RuleBasedStateMachine):
    rooms = Bundle("rooms")

    def __init__(self):
        super().__init__()
        clear_database()
        auth = AuthActions(self.client)
        self.users = {n: Caller(self.client, auth.register(n)) for n in NAMES}
        self.members: dict[str, set[str]] = {}  # room id -> member names
        self.private: dict[str, bool] = {}
        self.owner: dict[str, str] = {}
        self.sent: dict[str, list[str]] = {}  # room id -> message ids in send order
        self.replies: dict[str, list[str]] = {}  # room id -> replies (in threads only)
        self.by_client_id: dict[tuple, str] = {}
        self.cursor: dict[tuple, str | None] = {}  # (user, room) -> last synced id
        # each user's client: its sync cursor, rooms, messages, and every (room, rev) seen
        self.clients = {n: Client(self.users[n]) for n in NAMES}

    @rule(target=rooms, owner=st.sampled_from(NAMES), private=st.booleans())
    def create_room(self, owner, private):
        room = self.users[owner].create_room(f"r{len(self.members)}", isPrivate=private)["id"]
        self.members[room], self.private[room], self.owner[room] = {owner}, private, owner
        self.sent[room] = []
        self.replies[room] = []
        return room

    @rule(room=rooms, user=st.sampled_from(NAMES))
    def join(self, room, user):
        response = self.users[user].call("post", f"/api/rooms/{room}/join")
        if self.private[room] and user not in self.members[room]:
            assert response.status_code == 404
        else:
            assert response.status_code == 200
            self.members[room].add(user)

    @rule(room=rooms, user=st.sampled_from(NAMES))
    def invite(self, room, user):
        owner = self.users[self.owner[room]]
        if self.owner[room] not in self.members[room]:
            return
        response = owner.call(
            "post", f"/api/rooms/{room}/members", json={"userId": self.users[user].id}
        )
        assert response.status_code == 200
        self.members[room].add(user)

    @rule(room=rooms, user=st.sampled_from(NAMES))
    def kick(self, room, user):
        owner = self.users[self.owner[room]]
        response = owner.call("delete", f"/api/rooms/{room}/members/{self.users[user].id}")
        if user == self.owner[room]:
            assert response.status_code in (404, 409)  # yourself: use leave
        elif user in self.members[room]:
            assert response.status_code == 200
            self.members[room].discard(user)
        else:
            assert response.status_code == 404

    @rule(room=rooms, user=st.sampled_from(NAMES), client_id=st.sampled_from([None, "a", "b"]))
    def send(self, room, user, client_id):
        body = {"roomId": room, "content": "hello"}
        if client_id:
            body["clientId"] = client_id
        response = self.users[user].call("post", "/api/messages", json=body)
        if user not in self.members[room]:
            assert response.status_code == (404 if self.private[room] else 403)
            return
        key = (room, user, client_id)
        message_id = response.get_json()["id"]
        if client_id and key in self.by_client_id:  # a resend
            assert response.status_code == 200 and message_id == self.by_client_id[key]
            return
        assert response.status_code == 201
        if client_id:
            self.by_client_id[key] = message_id
        self.sent[room].append(message_id)

    @rule(room=rooms, user=st.sampled_from(NAMES), pick=st.integers(0, 20), delete=st.booleans())
    def edit_or_delete(self, room, user, pick, delete):
        """The sender edits, or an admin or the sender deletes, one of the room's messages."""
        mine = self.sent[room] + self.replies[room]
        if not mine:
            return
        message_id = mine[pick % len(mine)]
        caller = self.users[user]
        if delete:
            response = caller.call("delete", f"/api/messages/{message_id}")
        else:
            body = {"content": f"edited by {user} {pick}"}
            response = caller.call("patch", f"/api/messages/{message_id}", json=body)
        assert response.status_code in (200, 204, 403, 404, 409), response.get_data(True)

    @rule(
        room=rooms,
        user=st.sampled_from(NAMES),
        pick=st.integers(0, 20),
        emoji=st.sampled_from(["👍", "🎉"]),
        remove=st.booleans(),
    )
    def react(self, room, user, pick, emoji, remove):
        """A reaction (the reactions plugin) added or taken back."""
        mine = self.sent[room] + self.replies[room]
        if not mine:
            return
        message_id = mine[pick % len(mine)]
        path = f"/api/messages/{message_id}/reactions"
        caller = self.users[user]
        if remove:
            response = caller.call("delete", f"{path}/{emoji}")
        else:
            response = caller.call("post", path, json={"emoji": emoji})
        assert response.status_code in (200, 403, 404, 409), response.get_data(True)

    @rule(room=rooms, user=st.sampled_from(NAMES), pick=st.integers(0, 20))
    def reply(self, room, user, pick):
        """A reply in the thread of one of the room's messages (refused when it is gone)."""
        if not self.sent[room]:
            return
        parent = self.sent[room][pick % len(self.sent[room])]
        body = {"roomId": room, "content": f"re {pick}", "parentId": parent}
        response = self.users[user].call("post", "/api/messages", json=body)
        assert response.status_code in (201, 403, 404, 422), response.get_data(True)
        if response.status_code == 201:
            self.replies[room].append(response.get_json()["id"])

    @rule(user=st.sampled_from(NAMES))
    def client_syncs(self, user):
        """The user's client comes back (or starts) and applies sync_all's changes."""
        self.clients[user].sync()

    @rule(room=rooms, count=st.integers(1, 6))
    def member_sends_a_burst(self, room, count):
        for name in sorted(self.members[room])[:1]:
            for _ in range(count):
                self.send(room, name, None)

    @rule(room=rooms, user=st.sampled_from(NAMES), back=st.integers(0, 8))
    def reconnect_and_sync(self, room, user, back):
        """A client that lost `back` messages syncs from its (older) cursor."""
        known = self.sent[room]
        start = max(0, len(known) - back - 1)
        after = known[start - 1] if start > 0 else None
        actor = Actor.session(User.objects.get(username_lower=user), "test")
        if user not in self.members[room]:
            with pytest.raises(Exception) as refused:
                messages.sync_messages(actor, room, after=after, limit=3)
            assert refused.value.code in ("forbidden", "not_found")
            return
        got = []
        while True:
            page, more = messages.sync_messages(actor, room, after=after, limit=3)
            got += [str(m.id) for m in page]
            if not more:
                break
            after = got[-1]
        assert got == known[start:]

    @invariant()
    def a_synced_client_equals_the_server(self):
        """Right after a client's sync, its rooms and messages are the server's."""
        for client in self.clients.values():
            if client.just_synced:
                client.just_synced = False
                client.assert_equals_server()

    @invariant()
    def seq_is_unique_and_increasing(self):
        for room, ids in self.sent.items():
            stored = list(Message.objects(room=room).order_by("seq").only("id", "seq", "parent_id"))
            assert [m.seq for m in stored] == list(range(1, len(stored) + 1))  # replies too
            assert [str(m.id) for m in stored if not m.parent_id] == ids
            assert [str(m.id) for m in stored if m.parent_id] == self.replies[room]

    @precondition(lambda self: self.by_client_id)
    @invariant()
    def one_message_per_client_id(self):
        pipeline = [
            {"$match": {"client_id": {"$type": "string"}}},
            {
                "$group": {
                    "_id": {"r": "$room", "s": "$sender", "c": "$client_id"},
                    "n": {"$sum": 1},
                }
            },
            {"$match": {"n": {"$gt": 1}}},
        ]
        assert list(Message._get_collection().aggregate(pipeline)) == []


class Client:
    """A user's client: it applies sync_all's changes to what it holds."""

    def __init__(self, caller: Caller):
        self.caller, self.cursor = caller, None
        self.rooms: dict[str, int] = {}  # room id -> the rev from which the client holds it
        self.messages: dict[str, dict] = {}  # id -> wire message
        self.seen: set[tuple] = set()  # (room, rev) of every change applied
        self.just_synced = False

    def sync(self) -> None:
        if self.cursor is None:  # first start: the rooms now, changes from here on
            self.cursor = self.caller.ok("get", "/api/sync")["cursor"]
            self.rooms = {str(r.id): r.rev for r in Room.objects(participants=self.caller.id)}
            self.just_synced = True
            return
        last: dict[str, int] = {}
        for _ in range(100):
            query = {"since": self.cursor, "limit": 4}
            page = self.caller.ok("get", "/api/sync", query_string=query)
            for change in page["changes"]:
                self._apply(change, last)
            self.cursor = page["cursor"]
            if not page["hasMore"]:
                break
        self.just_synced = True

    def _apply(self, change: dict, last: dict) -> None:
        room, kind = change["roomId"], change["type"]
        if kind == "room_removed":
            self.rooms.pop(room)
            self.messages = {i: m for i, m in self.messages.items() if m["roomId"] != room}
            return
        if kind == "room_added":
            self.rooms[room] = change["rev"]
            return
        key = (room, change["rev"])
        assert key not in self.seen, f"{kind} {key} arrived twice"
        assert change["rev"] > last.get(room, 0), "out of rev order"
        self.seen.add(key)
        last[room] = change["rev"]
        assert room in self.rooms, f"{kind} for a room the client does not hold"
        if "message" in change["data"]:
            message = change["data"]["message"]
            self.messages[message["id"]] = message

    def assert_equals_server(self) -> None:
        assert set(self.rooms) == {str(r.id) for r in Room.objects(participants=self.caller.id)}
        for message_id, held in self.messages.items():
            stored = Message.objects.get(id=message_id)
            assert (held["content"], held.get("deleted", False)) == (stored.content, stored.deleted)
            reactions = sorted((r["user"], r["emoji"]) for r in held.get("reactions", []))
            kept = stored.data.get("reactions", [])  # the reactions plugin's data
            assert reactions == sorted((str(r["user"]), r["emoji"]) for r in kept)
            replies = Message.objects(parent_id=stored.id, deleted=False).count()
            assert held.get("thread", {}).get("replyCount", 0) == replies  # exact, and synced
        for room, since in self.rooms.items():  # every message sent since it held the room
            raw = Room._get_collection().find_one({"_id": ObjectId(room)})
            created = {
                e["ref"]
                for e in changelog.entries(raw, since, 10_000)
                if e["type"] == "message_created"
            }
            stored = {str(m.id) for m in Message.objects(id__in=[ObjectId(i) for i in created])}
            assert stored <= set(self.messages), "a message sent meanwhile never arrived"


@pytest.mark.timeout(300)
def test_chat_state_machine(app):
    ChatModel.client = app.test_client()
    ChatModel.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    ChatModel.TestCase().runTest()
