"""A bare asyncio WebSocket client: thousands of Engine.IO connections from one test
process (a thread per python-socketio client would not scale), and frames no
well-behaved client library would send."""

import asyncio
import base64
import os
import struct

CLOSE = 8


class RawSocket:
    """One websocket to /socket.io/ speaking Engine.IO text packets by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int, timeout: float = 10) -> "RawSocket":
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if b" 101 " not in head.split(b"\r\n")[0]:
            writer.close()
            raise ConnectionError(head.split(b"\r\n")[0].decode())
        return cls(reader, writer)

    def send(self, text: str) -> None:
        """One masked text frame (clients must mask)."""
        data = text.encode("utf-8", "surrogatepass")
        mask = os.urandom(4)
        size = len(data)
        if size < 126:
            head = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(head + mask + masked)

    async def recv(self, timeout: float = 10) -> str | None:
        """The next text frame, or None once the server closed the connection."""
        try:
            while True:
                first, second = await asyncio.wait_for(self.reader.readexactly(2), timeout)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(size)
                if first & 0x0F == CLOSE:
                    return None
                if first & 0x0F == 1:
                    return payload.decode()
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def closed_within(self, timeout: float) -> bool:
        """True when the server closes the connection within `timeout` seconds (frames
        that arrive meanwhile are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                if await self.recv(timeout=left) is None:
                    return True
            except TimeoutError:
                return False
        return False

    async def hung_up_within(self, timeout: float) -> bool:
        """True when the server ends the TCP connection itself within `timeout` seconds
        (everything it sends meanwhile, its close frame included, is left unanswered)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while (left := deadline - loop.time()) > 0:
                if not await asyncio.wait_for(self.reader.read(65536), left):
                    return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return False

    def close(self) -> None:
        self.writer.close()
