"""A message over the broker's size limit: close code 1009 with the limit, not a reset."""

from __future__ import annotations

import uuid

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import PayloadTooLarge
from dasf_jupyter.protocol import Envelope, MessageType, Prop
from dasf_jupyter.transport import BrokerUrl, ProducerSocket
from tests.reliability.processes import BackendProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

MB = 1_000_000
LIMIT = 64 * 1024 * 1024  # the broker's default --max-message-size


def request(topic: str, payload: str = "", data: bytes | None = None) -> Envelope:
    props = {
        Prop.MESSAGE_TYPE: MessageType.REQUEST.value,
        Prop.RESPONSE_TOPIC: f"{topic}_replies",
        Prop.REQUEST_CONTEXT: "1",
    }
    return Envelope(payload, props, data=data)


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_a_70_mb_frame_raises_payload_too_large_naming_the_limit(broker_url, kind):
    """Realistic size against the default limit: 70 MB, text and binary frames."""
    topic = f"oversize-{kind}-{uuid.uuid4().hex[:6]}"
    producer = ProducerSocket(BrokerUrl.parse(broker_url).producer(topic), topic=topic)
    try:
        assert producer.binary  # our broker takes binary frames
        envelope = (
            request(topic, "A" * (70 * MB))
            if kind == "text"
            else request(topic, data=bytes(70 * MB))
        )
        with pytest.raises(PayloadTooLarge) as refused:
            producer.publish(envelope, timeout=60)
        assert str(LIMIT) in str(refused.value), str(refused.value)
    finally:
        producer.close()
    # the broker is fine: the next producer publishes normally
    again = ProducerSocket(BrokerUrl.parse(broker_url).producer(topic), topic=topic)
    try:
        assert again.publish(request(topic, "AAAA"), timeout=10).ok
    finally:
        again.close()


@pytest.mark.parametrize("route", ["plain", "pulsar"])
def test_a_call_without_fragments_over_the_limit_fails_with_the_limit(
    start_broker, tmp_path, route
):
    """Scaled down (1 MiB limit): a client that does not fragment gets PayloadTooLarge."""
    broker = start_broker(env={"DASF_MAX_MESSAGE_SIZE": str(1 << 20)})
    url = broker.url if route == "plain" else broker.url + "/v2"
    topic = f"oversize-call-{uuid.uuid4().hex[:6]}"
    producer = ProducerSocket(BrokerUrl.parse(url).producer(topic), topic=topic)
    try:
        with pytest.raises(PayloadTooLarge, match=str(1 << 20)):
            producer.publish(request(topic, "B" * (3 << 20)), timeout=30)
    finally:
        producer.close()
    with BackendProcess(broker.url, topic, tmp_path / "count"):
        # fragments larger than the broker's limit: the 3 MiB request goes as one frame
        with connect(url, timeout=30, fragment_size=8 << 20) as conn:
            echo = conn.module(topic).echo
            with pytest.raises(PayloadTooLarge, match=str(1 << 20)):
                echo(tag="big", data="C" * (3 << 20))
        with connect(url, timeout=30, fragment_size=256 << 10) as conn:
            assert conn.module(topic).echo(tag="ok", data="D" * (3 << 20)) == "D" * (3 << 20)
