"""The websocket under Engine.IO (chat.sockets.transport: read in the request's own
greenlet), as a client's websocket library uses it: control frames, fragmented
messages, and a close from either side."""

import json
from urllib.parse import urlsplit

import websocket

from tests.conftest import eventually
from tests.processes import connected_clients


def _open(live: str, token: str) -> websocket.WebSocket:
    host = urlsplit(live).netloc
    ws = websocket.create_connection(f"ws://{host}/socket.io/?EIO=4&transport=websocket", timeout=5)
    assert ws.recv().startswith("0{")  # Engine.IO's open packet
    ws.send("40/chat," + json.dumps({"token": token}))
    assert ws.recv().startswith("40/chat,")
    return ws


def test_a_websocket_ping_is_answered_and_fragments_make_one_message(live, people):
    alice = people("alice")
    room = alice.create_room()
    ws = _open(live, alice.token)
    try:
        ws.ping("are you there")
        opcode, frame = ws.recv_data_frame(control_frame=True)
        assert (opcode, frame.data) == (websocket.ABNF.OPCODE_PONG, b"are you there")
        packet = '42/chat,1["join_room",' + json.dumps({"roomId": room}) + "]"
        half = len(packet) // 2  # one Socket.IO packet in two websocket frames
        ws.send_frame(websocket.ABNF.create_frame(packet[:half], websocket.ABNF.OPCODE_TEXT, 0))
        ws.send_frame(websocket.ABNF.create_frame(packet[half:], websocket.ABNF.OPCODE_CONT, 1))
        ack = ws.recv()
        while not ack.startswith("43/chat,1"):  # (a ping or an event may come first)
            ack = ws.recv()
        assert json.loads(ack[len("43/chat,1") :])[0]["ok"] is True
    finally:
        ws.close()


def test_a_close_from_the_client_ends_the_socket_on_the_server(live, people):
    bob = people("bob")
    before = connected_clients(live)
    ws = _open(live, bob.token)
    assert eventually(lambda: connected_clients(live) == before + 1)
    ws.close()  # a close frame, answered by the server's
    assert eventually(lambda: connected_clients(live) == before)
