"""A small TCP proxy that a test can cut and restore, to partition a process from Redis;
with fallbacks, a load balancer in front of server processes."""

import contextlib
import socket
import threading

from devtools.servers import free_port


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int, *fallback_ports: int):
        """Forward to target; when it refuses, to the next of `fallback_ports` (on the
        same host) that accepts, as a load balancer fails over."""
        self.targets = [(target_host, p) for p in (target_port, *fallback_ports)]
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.open = threading.Event()
        self.open.set()
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()  # cut: refuse at once
                continue
            upstream = self._connect()
            if upstream is None:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        for target in self.targets:
            with contextlib.suppress(OSError):
                upstream = socket.create_connection(target, timeout=2)
                upstream.settimeout(None)  # an idle connection is not a dead one
                return upstream
        return None

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones until `restore()`."""
        self.open.clear()
        with self.lock:
            for sock in self.connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.connections.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.running = False
        self.cut()
        self.listener.close()
