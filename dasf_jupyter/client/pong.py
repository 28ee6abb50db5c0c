"""Answering the broker's liveness pings, with bounded effort whatever is injected.

A ping on a client's response topic may come from the broker (dasf-broker-django probes
every consumer) or from anyone who can publish there. So a client answers only pings that
ask for the pong on the broker's ``status-ping`` topic, names only its own response topic
as the source, answers each of its topics at most once per ``min_interval``, and sends
through one producer socket and one thread with a bounded queue: a ping flood costs a
dropped-counter increment, never a thread, a socket or a pong to a topic the sender chose.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from ..errors import DasfError
from ..protocol import STATUS_PING_TOPIC, MessageType, Prop
from ..protocol.envelope import Envelope
from ..transport import BrokerUrl, ProducerSocket, Transport

log = logging.getLogger(__name__)

#: pongs waiting to be sent; more are dropped
QUEUE_SIZE = 16
#: at most one pong per response topic in this many seconds
MIN_INTERVAL = 1.0
#: how many response topics' last pong times are remembered
_MAX_REMEMBERED = 1024


class PongResponder:
    """Sends pongs for a connection's response topics to the broker's status topic."""

    def __init__(
        self,
        broker: BrokerUrl,
        headers: dict[str, str] | None = None,
        *,
        queue_size: int = QUEUE_SIZE,
        min_interval: float = MIN_INTERVAL,
        transport: Transport | None = None,
    ) -> None:
        self._broker = broker
        self._transport = transport
        self._headers = headers
        self._min_interval = min_interval
        self._queue: queue.Queue[Envelope] = queue.Queue(maxsize=queue_size)
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: ProducerSocket | None = None
        #: pings not answered (wrong pong topic, too frequent, queue full, closed)
        self.dropped = 0
        #: pongs handed to the producer socket
        self.sent = 0

    def answer(self, ping: Envelope, own_topic: str) -> bool:
        """Queue a pong for ``ping``, received on our response topic ``own_topic``.

        Returns whether a pong was queued; never blocks, never raises.
        """
        if ping.response_topic != STATUS_PING_TOPIC or self._closed.is_set():
            return self._drop()
        now = time.monotonic()
        with self._lock:
            last = self._last.get(own_topic)
            if last is not None and now - last < self._min_interval:
                return self._drop_locked()
            if len(self._last) >= _MAX_REMEMBERED:
                self._last.clear()
            self._last[own_topic] = now
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="dasf-client-pong", daemon=True
                )
                self._thread.start()
        pong = Envelope(
            "",
            {
                Prop.MESSAGE_TYPE: MessageType.PONG.value,
                Prop.REQUEST_CONTEXT: ping.properties.get(Prop.REQUEST_CONTEXT),
                Prop.SOURCE_TOPIC: own_topic,
            },
        )
        try:
            self._queue.put_nowait(pong)
        except queue.Full:
            return self._drop()
        return True

    def _drop(self) -> bool:
        with self._lock:
            return self._drop_locked()

    def _drop_locked(self) -> bool:
        self.dropped += 1
        return False

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                pong = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._producer().publish_nowait(pong)
                self.sent += 1
            except (DasfError, ValueError) as exc:
                # politeness only: a lost pong costs nothing but a stale status page
                log.debug("could not send a pong: %s", exc)

    def _producer(self) -> ProducerSocket:
        socket = self._socket
        if socket is None or socket.closed:
            url = self._broker.producer(STATUS_PING_TOPIC)
            socket = ProducerSocket(
                url, self._headers, topic=STATUS_PING_TOPIC, transport=self._transport
            )
            self._socket = socket
        return socket

    def close(self) -> None:
        """Stop the thread and close the socket (pongs still queued are dropped)."""
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
