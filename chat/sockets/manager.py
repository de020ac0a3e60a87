"""python-socketio's client managers with a per-socket room index.

Upstream finds the rooms of a leaving socket by scanning every room of the namespace:
O(rooms) per disconnect, so 10,000 sockets closing together (a network blip, a
deploy, a load test ending) cost 10,000 x ~11,000 checks and froze the process for
~35 s, during which reconnects and /healthz hung. With the index a disconnect costs
what the socket's own rooms cost.
"""

import logging
import threading
import time

import socketio

log = logging.getLogger(__name__)
RESUBSCRIBE_MAX = 2.0  # seconds between attempts to resubscribe to the message queue


class RoomIndex:
    """Keeps (namespace, sid) -> rooms beside upstream's room -> sids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sid_rooms: dict[tuple, set] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.sid_rooms.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.sid_rooms.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.sid_rooms[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """Upstream's basic_disconnect, leaving only the rooms the socket is in."""
        if namespace not in self.rooms:
            return
        for room in list(self.sid_rooms.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [r for r in self.sid_rooms.get((namespace, sid), ()) if r is not None]


class Manager(RoomIndex, socketio.Manager):
    """One process: rooms in memory."""


class RedisManager(RoomIndex, socketio.RedisManager):
    """python-socketio's Redis queue, resubscribing at most RESUBSCRIBE_MAX seconds
    after Redis is back: upstream doubles its wait up to 60 s, so a 5 s outage could
    leave live delivery between processes off for 8-16 s more."""

    def _redis_listen_with_retries(self):
        wait = 0.25
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                wait = 0.25
                yield from self.pubsub.listen()
            except Exception as exc:
                log.warning("message queue unreachable, retrying in %.2f s: %s", wait, exc)
                time.sleep(wait)
                wait = min(wait * 2, RESUBSCRIBE_MAX)


class KombuManager(RoomIndex, socketio.KombuManager):
    """python-socketio's kombu queue, for RabbitMQ (`amqp://`), with bounded waits.

    Upstream retries a publish until the broker answers (every send would hang through
    a broker restart), declares the exchange again before every publish (a round trip
    each), shares one AMQP connection between greenlets without a lock (interleaved
    frames), and waits up to 60 s before it listens again. Here a publish takes the
    lock, uses one producer per connection, and when the broker is unreachable is
    dropped at once for RETRY_AFTER seconds (live delivery is at-most-once; clients
    `sync`); the listener consumes without acks and reconnects within RESUBSCRIBE_MAX.
    """

    RETRY_AFTER = 0.5  # seconds a failed publish keeps the next ones from trying again

    def __init__(self, url: str, channel: str):
        options = {"connect_timeout": 2, "transport_options": {"max_retries": 0}}  # ours retry
        super().__init__(
            url,
            channel=channel,
            connection_options=options | {"heartbeat": 10},  # the listener checks them
            queue_options={"auto_delete": True},
        )
        # the publisher sends no heartbeats (nothing would check them: the broker would
        # close it after an idle minute), so it asks for none
        import kombu  # only with RabbitMQ: the eventlet virtualenv has no kombu

        self.publisher_connection = kombu.Connection(url, **options)
        self._publishing = threading.Lock()  # gevent-patched under gevent
        self._producer = None
        self._down_until = 0.0
        self.listening = False  # /readyz: consuming from the broker now

    def _publish(self, data):
        body = self.json.dumps(data)
        with self._publishing:
            if time.monotonic() < self._down_until:
                return
            for _ in range(2):  # a connection the broker dropped gets one fresh try
                try:
                    if self._producer is None:
                        self.publisher_connection.ensure_connection(max_retries=0)
                        exchange = self._exchange()
                        self._producer = self.publisher_connection.Producer(exchange=exchange)
                    self._producer.publish(body)
                    return
                except Exception as exc:
                    error = exc
                    self._producer = None
                    self.publisher_connection.collect()  # a fresh socket next time
            log.warning("message queue unreachable, %s not published: %s", data["method"], error)
            self._down_until = time.monotonic() + self.RETRY_AFTER

    def _listen(self):
        wait = 0.25
        while True:
            try:
                with (
                    self._connection() as connection,
                    connection.SimpleQueue(self._queue(), no_ack=True) as queue,
                ):
                    while True:
                        try:
                            message = queue.get(block=True, timeout=2)
                        except queue.Empty:
                            connection.heartbeat_check()
                            self.listening = True
                            continue
                        self.listening, wait = True, 0.25
                        yield message.payload
            except Exception as exc:
                self.listening = False
                log.warning("message queue unreachable, retrying in %.2f s: %s", wait, exc)
                time.sleep(wait)
                wait = min(wait * 2, RESUBSCRIBE_MAX)
