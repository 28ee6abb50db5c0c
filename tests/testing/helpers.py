"""Sockets on an in-memory broker for the tests of ``dasf_jupyter.testing``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dasf_jupyter.protocol import STATUS_PING_TOPIC, Envelope
from dasf_jupyter.testing import InMemoryBroker
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket
from tests.waiting import eventually

T = TypeVar("T")


def consumer(broker: InMemoryBroker, topic: str, sub: str = "s", **kw) -> ConsumerSocket:
    url = BrokerUrl.parse(broker.url).consumer(topic, sub)
    return ConsumerSocket(url, transport=broker.transport, **kw)


def producer(broker: InMemoryBroker, topic: str) -> ProducerSocket:
    url = BrokerUrl.parse(broker.url).producer(topic)
    return ProducerSocket(url, topic=topic, transport=broker.transport)


def receive(sock: ConsumerSocket, timeout: float = 5.0) -> Envelope:
    """The next delivery that is not one of the broker's liveness probes."""
    while True:
        envelope = sock.receive(timeout=timeout)
        if envelope.response_topic != STATUS_PING_TOPIC:
            return envelope


def until(check: Callable[[], T], timeout: float = 5.0, what: str = "a condition") -> T:
    """Poll ``check`` until it returns something truthy (:func:`tests.waiting.eventually`)."""
    return eventually(check, timeout=timeout, interval=0.01, message=what)
