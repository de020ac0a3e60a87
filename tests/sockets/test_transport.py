"""The websocket under Engine.IO (chat.sockets.transport: read in the request's own
greenlet), as a client's websocket library uses it: control frames, fragmented
messages, and a close from either side."""

import json
import socket
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


def test_a_client_that_reads_late_gets_every_frame_whole_and_in_order(live, people):
    """Frames are written by whoever sends them, as far as the socket takes them at
    once; a client that stops reading backs the socket up, the rest is queued behind
    the frame's tail, and all of it arrives, whole and in order, when it reads again
    (then the next frame is written at once again)."""
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    host = urlsplit(live).netloc
    ws = websocket.create_connection(
        f"ws://{host}/socket.io/?EIO=4&transport=websocket",
        sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
        timeout=5,
    )
    try:
        assert ws.recv().startswith("0{")
        ws.send("40/chat," + json.dumps({"token": bob.token}))
        assert ws.recv().startswith("40/chat,")
        sender = alice.socket()
        padding = "\U0001f600" * 3900  # 300 of them: over 4.6 MB, more than the kernel's
        # buffers hold (the sender's grows to 4 MB), so frames are left half written
        for i in range(300):
            assert sender.call("send_message", {"roomId": room, "content": f"{i} {padding}"})["ok"]
        sender.call("send_message", {"roomId": room, "content": "last"})
        got = []
        while "last" not in got:
            frame = ws.recv()
            if frame.startswith('42/chat,["message_received"'):
                got.append(json.loads(frame[len("42/chat,") :])[1]["message"]["content"].split()[0])
        assert got == [str(i) for i in range(300)] + ["last"]
    finally:
        ws.close()
