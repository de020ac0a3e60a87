"""A hypothesis state machine over rooms, membership, sends, resends, kicks and sync.

Invariants (RELIABILITY.md): per-room seq unique and increasing, one message per
clientId, and sync returns exactly the messages a user may see, once each.
"""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from chat.models import Message, User
from chat.services import messages
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
        self.by_client_id: dict[tuple, str] = {}
        self.cursor: dict[tuple, str | None] = {}  # (user, room) -> last synced id

    @rule(target=rooms, owner=st.sampled_from(NAMES), private=st.booleans())
    def create_room(self, owner, private):
        room = self.users[owner].create_room(f"r{len(self.members)}", isPrivate=private)["id"]
        self.members[room], self.private[room], self.owner[room] = {owner}, private, owner
        self.sent[room] = []
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
        actor = User.objects.get(username_lower=user)
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
    def seq_is_unique_and_increasing(self):
        for room, ids in self.sent.items():
            stored = list(Message.objects(room=room).order_by("seq").only("id", "seq"))
            assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
            assert [str(m.id) for m in stored] == ids

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
