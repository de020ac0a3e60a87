"""A typed Python client for chat's REST API, generated from docs/openapi.json:

    openapi-python-client generate --path docs/openapi.json --config clients/python/config.yaml

writes the `chat_client` package (httpx and attrs; every route a module, every schema a
class). tests/test_typed_clients.py generates it and runs this file against a live
server: CHAT_URL=http://127.0.0.1:5000 python clients/python/example.py
"""

import json
import os
import time

from chat_client import AuthenticatedClient, Client
from chat_client.api.auth import post_api_auth_register
from chat_client.api.messages import get_api_messages_room_id, post_api_messages
from chat_client.api.rooms import post_api_rooms
from chat_client.api.search import get_api_search_messages
from chat_client.models import (
    MessageIn,
    MessageListOut,
    MessageOut,
    RegisterIn,
    RoomCreateIn,
    RoomOut,
    SearchOut,
    SessionOut,
)

base_url = os.environ.get("CHAT_URL", "http://127.0.0.1:5000")
run = format(time.time_ns() // 1000, "x")

anonymous = Client(base_url=base_url)
body = RegisterIn(
    username=f"py{run}", email=f"py{run}@example.com", password="correct horse battery"
)
session = post_api_auth_register.sync(client=anonymous, body=body)
assert isinstance(session, SessionOut), session

chat = AuthenticatedClient(base_url=base_url, token=session.access_token)
room = post_api_rooms.sync(client=chat, body=RoomCreateIn(name=f"typed {run}"))
assert isinstance(room, RoomOut), room
message = MessageIn(room_id=room.id, content="hello from Python", client_id=f"py-{run}")
sent = post_api_messages.sync_detailed(client=chat, body=message)
again = post_api_messages.sync_detailed(client=chat, body=message)  # a retry: stored once
history = get_api_messages_room_id.sync(room.id, client=chat, limit=10)
found = get_api_search_messages.sync(client=chat, q="python")
refused = post_api_messages.sync_detailed(client=chat, body=MessageIn(room_id=room.id, content=""))
assert isinstance(history, MessageListOut) and isinstance(found, SearchOut)
assert isinstance(sent.parsed, MessageOut) and isinstance(again.parsed, MessageOut)

print(
    json.dumps(
        {
            "user": session.user.username,
            "room": room.name,
            "sent": sent.status_code,
            "retried": again.status_code,
            "sameMessage": sent.parsed.id == again.parsed.id,
            "history": [m.content for m in history.messages],
            "found": [m.room.name for m in found.messages if m.room],
            "refused": refused.status_code,
        }
    )
)
