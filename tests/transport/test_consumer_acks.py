"""Consumer acks: sent to brokers that need them (the reference), not to ours, which says so."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.sync.server import ServerConnection, serve

from dasf_jupyter.protocol.capabilities import CONSUMER_ACKS_HEADER, NO_CONSUMER_ACKS
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket

DELIVERY = json.dumps(
    {
        "messageId": "m-1",
        "payload": "",
        "properties": {"messageType": "log"},
        "publishTime": "2026-01-01T00:00:00Z",
    }
)


@contextmanager
def recording_broker(announce: bool) -> Iterator[tuple[str, list[str]]]:
    """A websocket server that delivers one message and records what the consumer sends."""
    received: list[str] = []
    done = threading.Event()

    def process_response(connection, request, response):
        if announce:
            response.headers[CONSUMER_ACKS_HEADER] = NO_CONSUMER_ACKS
        return response

    def handler(connection: ServerConnection) -> None:
        connection.send(DELIVERY)
        received.extend(str(frame) for frame in connection)  # until the consumer closes
        done.set()

    with serve(handler, "127.0.0.1", 0, process_response=process_response) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}/ws/topic/sub", received
            assert done.wait(10), "the consumer never closed its socket"
        finally:
            server.shutdown()
            thread.join(10)


def _consume_one(url: str) -> ConsumerSocket:
    consumer = ConsumerSocket(url)
    try:
        assert consumer.receive(timeout=10).message_id == "m-1"
    finally:
        consumer.close()
    return consumer


def test_a_broker_without_the_announcement_gets_an_ack_per_delivery():
    with recording_broker(announce=False) as (url, received):
        consumer = _consume_one(url)
    assert consumer.auto_ack
    assert [json.loads(frame) for frame in received] == [{"messageId": "m-1"}]


def test_a_broker_that_ignores_acks_gets_none():
    with recording_broker(announce=True) as (url, received):
        consumer = _consume_one(url)
    assert not consumer.auto_ack
    assert received == []


def test_our_broker_announces_that_it_ignores_consumer_acks(broker_url):
    url = BrokerUrl.parse(broker_url).consumer(f"acks-{uuid.uuid4().hex[:8]}", "s")
    consumer = ConsumerSocket(url)
    try:
        assert not consumer.auto_ack
    finally:
        consumer.close()


def test_the_reference_broker_still_gets_acks(ref_broker_url):
    url = BrokerUrl.parse(ref_broker_url).consumer(f"acks-{uuid.uuid4().hex[:8]}", "s")
    consumer = ConsumerSocket(url)
    try:
        assert consumer.auto_ack
    finally:
        consumer.close()
