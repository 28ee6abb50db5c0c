"""Blocking websocket endpoints for one topic: a producer and a consumer.

Thin adapters around ``websockets.sync``: all message formats come from
:mod:`dasf_jupyter.protocol`. Every wait has a timeout; a closed socket raises
:class:`~dasf_jupyter.errors.ConnectionLost`, a refused publish
:class:`~dasf_jupyter.errors.BrokerRefused`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace

from ..errors import BrokerError, BrokerRefused, ConnectionLost, PayloadTooLarge, ProtocolError
from ..peer_config import binary_enabled
from ..protocol import (
    Envelope,
    PublishAck,
    decode_delivery,
    decode_publish_ack,
    encode_consumer_ack,
    encode_publish,
)
from ..protocol.binary import BINARY_FRAMES_HEADER, BINARY_FRAMES_VERSION
from ..protocol.envelope import encode_binary_publish
from .base import FrameSocket, Transport
from .log_redaction import redact_client_logs
from .websocket import DEFAULT_MAX_MESSAGE, WEBSOCKETS

log = logging.getLogger(__name__)
redact_client_logs()  # websockets logs handshake headers (the token) at DEBUG level


def speaks_binary_frames(sock: FrameSocket) -> bool:
    """True when the broker announced binary frames in its handshake (docs/binary-frames.md)."""
    if not binary_enabled():
        return False
    return sock.response_headers.get(BINARY_FRAMES_HEADER) == BINARY_FRAMES_VERSION


class ProducerSocket:
    """Publishes envelopes to one topic; thread-safe; acks matched by ``context``."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        topic: str | None = None,
        open_timeout: float = 10.0,
        transport: Transport | None = None,
    ) -> None:
        self.url = url
        self.topic = topic
        self.last_used = time.monotonic()
        self._ws = (transport or WEBSOCKETS).open(
            url, headers, open_timeout=open_timeout, max_size=1 << 20
        )
        #: raw payloads go out as binary frames (our broker); else as base64 text
        self.binary = speaks_binary_frames(self._ws)
        self._send_lock = threading.Lock()
        self._pending: dict[str, Future[PublishAck]] = {}
        self._counter = itertools.count(1)
        self._closed = threading.Event()
        #: why the socket closed, for the pending publishes (PayloadTooLarge for a 1009)
        self._close_error: BrokerError | PayloadTooLarge | None = None
        self._reader = threading.Thread(
            target=self._read_acks, name=f"dasf-acks-{topic or url}", daemon=True
        )
        self._reader.start()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def publish_nowait(self, envelope: Envelope) -> Future[PublishAck]:
        """Send ``envelope``; the future resolves with the ack or fails with BrokerRefused."""
        context = next(self._counter)
        future: Future[PublishAck] = Future()
        self._pending[str(context)] = future
        envelope = replace(envelope, context=context)
        if envelope.data is not None and self.binary:
            frame: str | bytes = encode_binary_publish(envelope)
        else:
            frame = encode_publish(envelope)
        del envelope
        self.last_used = time.monotonic()
        try:
            with self._send_lock:
                self._ws.send(frame)
        except (ConnectionLost, PayloadTooLarge):
            self._pending.pop(str(context), None)
            self._closed.set()
            raise
        if self._closed.is_set():
            self._fail_pending()
        return future

    def publish(self, envelope: Envelope, timeout: float = 30.0) -> PublishAck:
        """Send ``envelope`` and wait for the broker's ack."""
        future = self.publish_nowait(envelope)
        try:
            return future.result(timeout)
        except FutureTimeout:
            raise BrokerError(
                f"the broker did not acknowledge a message on {self.url} within {timeout} s"
            ) from None

    def _read_acks(self) -> None:
        try:
            while True:
                text = self._ws.recv()
                try:
                    ack = decode_publish_ack(text)
                except ProtocolError as exc:
                    log.warning("ignoring invalid frame on producer %s: %s", self.url, exc)
                    continue
                future = self._pending.pop(str(ack.context), None)
                if future is None:
                    continue
                if ack.ok:
                    future.set_result(ack)
                else:
                    reason = ack.result + (f" ({ack.error_msg})" if ack.error_msg else "")
                    future.set_exception(BrokerRefused(reason, self.topic))
        except (ConnectionLost, PayloadTooLarge) as exc:
            self._close_error = exc
        finally:
            self._closed.set()
            self._fail_pending()

    def _fail_pending(self) -> None:
        while self._pending:
            _, future = self._pending.popitem()
            if not future.done():
                error = self._close_error or ConnectionLost(f"connection to {self.url} closed")
                future.set_exception(error)

    def close(self) -> None:
        self._ws.close()
        self._reader.join(timeout=5)


class ConsumerSocket:
    """Receives deliveries of one topic subscription and acknowledges them.

    With ``binary=True`` it asks the broker for binary deliveries (raw payloads in
    :attr:`Envelope.data <dasf_jupyter.protocol.Envelope.data>`, docs/binary-frames.md).
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        max_size: int | None = DEFAULT_MAX_MESSAGE,
        auto_ack: bool = True,
        binary: bool = False,
        transport: Transport | None = None,
    ) -> None:
        self.url = url
        self.auto_ack = auto_ack
        if (
            binary and binary_enabled()
        ):  # ask for raw payloads; a broker that does not know the header ignores it
            headers = {**(headers or {}), BINARY_FRAMES_HEADER: BINARY_FRAMES_VERSION}
        self._ws = (transport or WEBSOCKETS).open(
            url, headers, open_timeout=open_timeout, max_size=max_size
        )
        self._send_lock = threading.Lock()

    def receive(self, timeout: float | None = None) -> Envelope:
        """Next delivery; ``TimeoutError`` after ``timeout`` s, ConnectionLost when closed.

        Frames that are not valid deliveries raise :class:`ProtocolError`; the socket stays
        usable.
        """
        try:
            frame = self._ws.recv(timeout=timeout)
        except PayloadTooLarge as exc:
            raise ConnectionLost(str(exc)) from None
        envelope = decode_delivery(frame)
        if self.auto_ack and envelope.message_id:
            self.ack(envelope.message_id)
        return envelope

    def __iter__(self) -> Iterator[Envelope]:
        """Deliveries until the socket closes; invalid frames are logged and skipped."""
        while True:
            try:
                yield self.receive()
            except ProtocolError as exc:
                log.warning("ignoring invalid frame on %s: %s", self.url, exc)
            except ConnectionLost:
                return

    def ack(self, message_id: str) -> None:
        try:
            with self._send_lock:
                self._ws.send(encode_consumer_ack(message_id))
        except (ConnectionLost, PayloadTooLarge):
            pass  # the delivery loop reports the closed connection

    def close(self) -> None:
        self._ws.close()


class ProducerPool:
    """Producer sockets per topic, opened on first use and reused (thread-safe)."""

    def __init__(
        self,
        url_for_topic,
        headers: dict[str, str] | None = None,
        max_sockets: int | None = None,
        *,
        transport: Transport | None = None,
    ) -> None:
        self._url_for_topic = url_for_topic
        self._headers = headers
        self._transport = transport
        #: above this many sockets the least recently used one is closed (None: no cap)
        self.max_sockets = max_sockets
        self._sockets: dict[str, ProducerSocket] = {}
        self._opening: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, topic: str) -> ProducerSocket:
        with self._lock:
            sock = self._sockets.get(topic)
            if sock is not None and not sock.closed:
                return sock
            opening = self._opening.setdefault(topic, threading.Lock())
        # connect outside the pool lock: a slow broker for one topic must not block the others
        with opening:
            with self._lock:
                sock = self._sockets.get(topic)
            if sock is None or sock.closed:
                sock = ProducerSocket(
                    self._url_for_topic(topic),
                    self._headers,
                    topic=topic,
                    transport=self._transport,
                )
                with self._lock:
                    self._sockets[topic] = sock
                    evicted = self._over_cap(topic)
                for old in evicted:
                    old.close()
            return sock

    def _over_cap(self, keep: str) -> list[ProducerSocket]:
        """Take the least recently used sockets out above ``max_sockets`` (lock held)."""
        if self.max_sockets is None or len(self._sockets) <= self.max_sockets:
            return []
        candidates = sorted(
            (t for t in self._sockets if t != keep), key=lambda t: self._sockets[t].last_used
        )
        excess = len(self._sockets) - self.max_sockets
        return [self._sockets.pop(t) for t in candidates[:excess]]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sockets)

    def close_idle(self, idle_seconds: float) -> None:
        """Close producers unused for ``idle_seconds``."""
        limit = time.monotonic() - idle_seconds
        with self._lock:
            idle = [t for t, s in self._sockets.items() if s.last_used < limit or s.closed]
            socks = [self._sockets.pop(t) for t in idle]
        for sock in socks:
            sock.close()

    def close(self) -> None:
        with self._lock:
            socks = list(self._sockets.values())
            self._sockets.clear()
        for sock in socks:
            sock.close()
