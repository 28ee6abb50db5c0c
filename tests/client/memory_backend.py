"""A scripted backend on the in-memory broker: a consumer whose replies a function decides.

For what a real module will not do on demand: answer without announcing request fragments,
count the fragments it gets, or probe the caller before answering.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dasf_jupyter.protocol import STATUS_PING_TOPIC
from dasf_jupyter.testing import InMemoryBroker
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerPool
from tests.client.scripted_broker import Backend


@contextmanager
def scripted_backend(broker: InMemoryBroker, topic: str, backend: Backend) -> Iterator[None]:
    """Consume ``topic``; publish what ``backend`` returns to each request's response topic."""
    urls = BrokerUrl.parse(broker.url)
    consumer = ConsumerSocket(urls.consumer(topic, "backend-module"), transport=broker.transport)
    producers = ProducerPool(urls.producer, transport=broker.transport)

    def serve() -> None:
        for envelope in consumer:  # until the socket closes
            if envelope.response_topic in (None, STATUS_PING_TOPIC):
                continue  # the broker's liveness probes
            for reply in backend(envelope):
                producers.get(envelope.response_topic).publish(reply, timeout=10)

    thread = threading.Thread(target=serve, name=f"scripted-{topic}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        consumer.close()
        thread.join(timeout=10)
        producers.close()
