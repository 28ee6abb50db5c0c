"""Attackers on a real broker: a spy on a module's topic and an injector of forged messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from dasf_jupyter.protocol import STATUS_PING_TOPIC, Envelope
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket

from .peers import suffix


class TopicSpy:
    """An extra consumer (own subscription) on a topic: it gets a copy of every message."""

    def __init__(self, broker_url: str, topic: str) -> None:
        self.url = BrokerUrl.parse(broker_url)
        self.socket = ConsumerSocket(self.url.consumer(topic, "spy-" + suffix()))

    def next_message(self, timeout: float = 20.0, probes: bool = False) -> Envelope:
        """The next message (the broker's own status-ping probes skipped unless ``probes``)."""
        deadline = time.monotonic() + timeout
        while True:
            envelope = self.socket.receive(timeout=max(deadline - time.monotonic(), 0.01))
            if probes or envelope.response_topic != STATUS_PING_TOPIC:
                return envelope

    def quiet_for(self, seconds: float) -> list[Envelope]:
        """Every message that arrives within ``seconds``."""
        seen: list[Envelope] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.append(self.socket.receive(timeout=left))
            except TimeoutError:
                break
        return seen

    def close(self) -> None:
        self.socket.close()


class Injector:
    """Publishes forged messages to a topic, once or repeatedly in a background thread."""

    def __init__(self, broker_url: str, topic: str) -> None:
        url = BrokerUrl.parse(broker_url)
        self.socket = ProducerSocket(url.producer(topic), topic=topic)
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, envelope: Envelope) -> None:
        self.socket.publish(envelope)
        self.sent += 1

    def repeat(self, make: Callable[[], Envelope], every: float, limit: float) -> None:
        """Publish ``make()`` every ``every`` s for at most ``limit`` s (or until stopped)."""

        def loop() -> None:
            deadline = time.monotonic() + limit
            while not self._stop.is_set() and time.monotonic() < deadline:
                self.send(make())
                self._stop.wait(every)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.socket.close()
