"""Which websocket speaks binary frames: negotiated with the broker, off with DASF_BINARY=0."""

from __future__ import annotations

import os
import uuid

import pytest

from dasf_jupyter.protocol import Envelope
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket


def _round_trip(url: str, binary_consumer: bool) -> tuple[bool, Envelope, bytes]:
    """Publish 5000 raw bytes; ``(producer.binary, what the consumer got, the bytes)``."""
    broker = BrokerUrl.parse(url)
    topic = f"neg-{uuid.uuid4().hex[:8]}"
    consumer = ConsumerSocket(broker.consumer(topic, "s"), binary=binary_consumer)
    producer = ProducerSocket(broker.producer(topic), topic=topic)
    try:
        raw = os.urandom(5000)
        assert producer.publish(Envelope("", {"messageType": "log"}, data=raw)).ok
        while True:  # skip the broker's liveness probes
            got = consumer.receive(timeout=20)
            if got.message_type == "log":
                return producer.binary, got, raw
    finally:
        producer.close()
        consumer.close()


def test_our_broker_negotiates_binary_frames_both_ways(broker_url):
    binary, got, raw = _round_trip(broker_url, binary_consumer=True)
    assert binary
    assert got.data is not None and bytes(got.data) == raw and got.payload == ""


@pytest.mark.parametrize("env", ["1", "0"])
def test_a_consumer_that_does_not_ask_gets_the_same_message_as_text(broker_url, monkeypatch, env):
    monkeypatch.setenv("DASF_BINARY", env)
    binary, got, raw = _round_trip(broker_url, binary_consumer=False)
    assert binary is (env == "1")
    assert got.data is None and got.payload_bytes() == raw


def test_dasf_binary_0_keeps_a_process_to_text_frames(broker_url, monkeypatch):
    monkeypatch.setenv("DASF_BINARY", "0")
    binary, got, raw = _round_trip(broker_url, binary_consumer=True)
    assert not binary
    assert got.data is None and got.payload_bytes() == raw


def test_the_reference_broker_gets_text_frames(ref_broker_url):
    binary, got, raw = _round_trip(ref_broker_url, binary_consumer=True)
    assert not binary
    assert got.data is None and got.payload_bytes() == raw
