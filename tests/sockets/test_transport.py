"""The websocket under Engine.IO (chat.sockets.transport: read in the request's own
greenlet), as a client's websocket library uses it: control frames, fragmented
messages, and a close from either side."""

import contextlib
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


def _frame(payload: bytes, opcode: int = websocket.ABNF.OPCODE_TEXT) -> bytes:
    """A client's frame (masked), as a websocket library writes it."""
    return websocket.ABNF.create_frame(payload, opcode).format()


def _close_code(ws: websocket.WebSocket) -> int:
    """The status of the server's close frame (skipping what comes before it)."""
    while True:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big")


def test_frames_cut_anywhere_and_of_every_length_arrive_whole(live, people):
    """Frames are parsed as the bytes come: three sends (lengths in 7 bits, 16 and 64)
    written in one stream cut into pieces of 7 bytes each get their acks, in order."""
    alice = people("alice")
    room = alice.create_room()
    ws = _open(live, alice.token)
    try:

        def packet(ack: int, content: str) -> bytes:
            body = json.dumps(["send_message", {"roomId": room, "content": content}])
            return f"42/chat,{ack}{body}".encode()

        short, medium = packet(1, "hi"), packet(2, "\u00e9" * 3000)  # 6,000 bytes of text
        big = packet(3, "x" * 65_000)
        big = big.replace(b"x" * 100, b"x" * (100 + 65_536 - len(big)), 1)  # exactly the most
        assert len(short) < 126 and 126 <= len(medium) < 65_536 and len(big) == 65_536
        stream = _frame(short) + _frame(medium) + _frame(big)
        for at in range(0, len(stream), 7):
            ws.sock.sendall(stream[at : at + 7])
        acks = {}
        while len(acks) < 3:
            frame = ws.recv()
            if frame.startswith("43/chat,"):
                acks[frame[8]] = json.loads(frame[9:])[0]
        assert acks["1"]["ok"] and acks["1"]["message"]["content"] == "hi"
        assert acks["2"]["ok"] and acks["2"]["message"]["content"] == "\u00e9" * 3000
        assert acks["3"]["error"]["code"] == "validation_error"  # (content over 4,000)
    finally:
        ws.close()


def test_a_text_frame_that_is_not_utf8_closes_the_connection_with_1007(live, people):
    ws = _open(live, people("alice").token)
    try:
        ws.sock.sendall(_frame(b"42/chat,\xff\xfe"))
        assert _close_code(ws) == 1007
    finally:
        ws.close()


def test_a_message_over_the_frame_limit_is_refused_before_it_is_all_buffered(live, people):
    """SOCKET_MAX_FRAME (64 KiB) bounds what the server holds for one message: a frame
    announcing 10 MB ends the connection (a close with 1009, too big, then the socket's
    end, unread bytes and all) once the limit is passed, while the client is still
    sending it; it used to wait for all 10 MB first."""
    ws = _open(live, people("alice").token)
    try:
        announced = 10_000_000
        header = bytes((0x81, 0x80 | 127)) + announced.to_bytes(8, "big") + b"\x00" * 4
        ws.sock.sendall(header + b"x" * 70_000)  # (mask 0: the payload as it is)
        with contextlib.suppress(ConnectionResetError):  # (the close frame lost to it)
            assert _close_code(ws) == 1009
    finally:
        ws.close()
