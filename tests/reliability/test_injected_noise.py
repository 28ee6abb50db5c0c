"""An injector can neither flood a module's log nor leave fragment sets pinned while idle.

Real broker, real ``dasf serve`` process; the attacker publishes on the module's topic
through its own socket.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.protocol import Envelope, MessageType, Prop, decode_text_payload
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket
from tests.reliability.processes import BackendProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

FLOOD = 500
NO_REPLY_TOPIC = "ignoring a message without response_topic"
SUMMARY = re.compile(r"\(and (\d+) more messages without response_topic[^)]*suppressed\)")
LATER = re.compile(
    r"^(\d+) more messages without response_topic[^\n]* suppressed in the last", re.M
)


@pytest.fixture
def served(start_broker, tmp_path):
    """A broker and a counting module started with ``env``."""
    started: list[BackendProcess] = []

    def start(env: dict[str, str]) -> tuple[str, str, BackendProcess]:
        broker = start_broker()
        topic = f"noise-{uuid.uuid4().hex[:8]}"
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            backend = BackendProcess(broker.url, topic, tmp_path / f"{topic}.count").start()
        started.append(backend)
        return broker.url, topic, backend

    yield start
    for backend in started:
        backend.stop()


def _reported(text: str) -> int:
    """How many reply-topic-less messages the log accounts for (lines + suppressed counts)."""
    lines = text.count(NO_REPLY_TOPIC)
    return lines + sum(int(n) for n in SUMMARY.findall(text) + LATER.findall(text))


def test_malformed_messages_cannot_flood_the_module_log(served):
    url, topic, backend = served({"DASF_LOG_SUMMARY_INTERVAL": "2"})
    producer = ProducerSocket(BrokerUrl.parse(url).producer(topic), topic=topic)
    try:
        acks = []
        for n in range(FLOOD):  # a request with a context but nowhere to answer
            props = {Prop.MESSAGE_TYPE: MessageType.REQUEST.value, Prop.REQUEST_CONTEXT: str(n)}
            acks.append(producer.publish_nowait(Envelope("e30=", props)))
            if len(acks) >= 32:
                acks.pop(0).result(60)
        for ack in acks:
            ack.result(60)
    finally:
        producer.close()
    with connect(url, timeout=20) as conn:  # the module still answers a legit call
        assert conn.module(topic).echo(tag="after", data="ok") == "ok"

    # every one of them is accounted for: logged once, or counted in a summary line
    def log_if_all_reported() -> str | None:
        text = backend.log_path.read_text(errors="replace")
        return text if _reported(text) >= FLOOD else None

    text = eventually(
        log_if_all_reported,
        timeout=30,
        interval=0.2,
        message=lambda: (
            f"{FLOOD} injected messages reported, "
            f"not {_reported(backend.log_path.read_text(errors='replace'))}"
        ),
    )
    lines = [line for line in text.splitlines() if "without response_topic" in line]
    print(f"{len(lines)} log lines for {FLOOD} injected messages")
    assert _reported(text) == FLOOD, lines
    assert len(lines) <= 12, f"{len(lines)} lines about {FLOOD} injected messages"


def test_an_idle_incomplete_fragment_set_expires_on_time(served):
    timeout = 2.0
    url, topic, _ = served({"DASF_MODULE_FRAGMENTS_TIMEOUT": str(timeout)})
    broker = BrokerUrl.parse(url)
    response_topic = f"{topic}_sender{uuid.uuid4().hex[:8]}"
    consumer = ConsumerSocket(broker.consumer(response_topic, "errors"), binary=True)
    producer = ProducerSocket(broker.producer(topic), topic=topic)
    try:
        props = {
            Prop.MESSAGE_TYPE: MessageType.REQUEST.value,
            Prop.RESPONSE_TOPIC: response_topic,
            Prop.REQUEST_CONTEXT: "half",
            Prop.FRAGMENT: 0,
            Prop.NUM_FRAGMENTS: 2,
        }
        producer.publish_nowait(Envelope("", props, data=b"\x00" * 1024)).result(30)
        sent = time.monotonic()
        reply = None
        deadline = sent + timeout + 5  # the idle tick is 1 s: 5 s is ample margin
        while reply is None and time.monotonic() < deadline:
            try:
                envelope = consumer.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if envelope.message_type == MessageType.RESPONSE.value:
                reply = envelope
        waited = time.monotonic() - sent
        assert reply is not None, f"no error reply within {timeout + 5} s"
        print(f"error reply {waited:.1f} s after the first fragment (timeout {timeout} s)")
        assert reply.request_context == "half"
        assert reply.properties.get(Prop.STATUS) == "error"
        assert reply.properties.get(Prop.ERROR_TYPE) == "PayloadTooLarge"
        text = decode_text_payload(reply.payload)
        assert "did not arrive within 2 s" in text, text
        assert waited >= timeout - 0.5  # not dropped before its time
    finally:
        producer.close()
        consumer.close()
