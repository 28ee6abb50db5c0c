"""Which websocket speaks binary frames: negotiated with the broker, off with DASF_BINARY=0."""

from __future__ import annotations

import os
import uuid

from dasf_jupyter.protocol import Envelope
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket


def _pair(url: str, binary_consumer: bool) -> tuple[ProducerSocket, ConsumerSocket]:
    broker = BrokerUrl.parse(url)
    topic = f"neg-{uuid.uuid4().hex[:8]}"
    consumer = ConsumerSocket(broker.consumer(topic, "s"), binary=binary_consumer)
    return ProducerSocket(broker.producer(topic), topic=topic), consumer


def _next_log(consumer: ConsumerSocket, timeout: float = 10) -> Envelope:
    """The next message we published (skipping the broker's liveness probes)."""
    while True:
        got = consumer.receive(timeout=timeout)
        if got.message_type == "log":
            return got


def test_our_broker_negotiates_binary_frames_both_ways(broker_url):
    producer, consumer = _pair(broker_url, binary_consumer=True)
    try:
        assert producer.binary
        raw = os.urandom(5000)
        assert producer.publish(Envelope("", {"messageType": "log"}, data=raw)).ok
        got = _next_log(consumer)
        assert got.data is not None and bytes(got.data) == raw and got.payload == ""
    finally:
        producer.close()
        consumer.close()


def test_a_consumer_that_does_not_ask_gets_the_same_message_as_text(broker_url):
    producer, consumer = _pair(broker_url, binary_consumer=False)
    try:
        raw = os.urandom(5000)
        assert producer.publish(Envelope("", {"messageType": "log"}, data=raw)).ok
        got = _next_log(consumer)
        assert got.data is None and got.payload_bytes() == raw
    finally:
        producer.close()
        consumer.close()


def test_dasf_binary_0_keeps_a_process_to_text_frames(broker_url, monkeypatch):
    monkeypatch.setenv("DASF_BINARY", "0")
    producer, consumer = _pair(broker_url, binary_consumer=True)
    try:
        assert not producer.binary
        raw = os.urandom(5000)
        assert producer.publish(Envelope("", {"messageType": "log"}, data=raw)).ok
        got = _next_log(consumer)
        assert got.data is None and got.payload_bytes() == raw
    finally:
        producer.close()
        consumer.close()


def test_the_reference_broker_gets_text_frames(ref_broker_url):
    producer, consumer = _pair(ref_broker_url, binary_consumer=True)
    try:
        assert not producer.binary
        raw = os.urandom(5000)
        assert producer.publish(Envelope("", {"messageType": "log"}, data=raw)).ok
        got = _next_log(consumer, 20)
        assert got.data is None and got.payload_bytes() == raw
    finally:
        producer.close()
        consumer.close()
