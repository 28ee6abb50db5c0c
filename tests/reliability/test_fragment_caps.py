"""Incomplete fragmented messages cannot pin a module's or a client's memory.

An unauthenticated sender publishes fragment sets and never their last fragment. The module
keeps at most its per-sender and total bounds (docs/delivery-semantics.md, "Memory bounds"),
drops the oldest incomplete set first and answers it with an error response; a client fails
the call whose incomplete reply it dropped.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import PayloadTooLarge
from dasf_jupyter.protocol import Envelope, MessageType, Prop, decode_text_payload
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket
from tests.reliability.processes import BackendProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

MiB = 1 << 20
DROPPED = "dropped before all its fragments arrived"


class PeakRss:
    """The highest RSS of a process, sampled in a thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    @contextmanager
    def watching(self) -> Iterator[PeakRss]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def send_incomplete_set(
    producer: ProducerSocket, response_topic: str, context: str, size: int, fragment: int
) -> None:
    """``size`` raw bytes of a request in fragments of ``fragment`` bytes, all but the last."""
    total = size // fragment + 1  # the last fragment never comes
    chunk = b"\x00" * fragment
    acks = []
    for index in range(total - 1):
        props = {
            Prop.MESSAGE_TYPE: MessageType.REQUEST.value,
            Prop.RESPONSE_TOPIC: response_topic,
            Prop.REQUEST_CONTEXT: context,
            Prop.FRAGMENT: index,
            Prop.NUM_FRAGMENTS: total,
        }
        acks.append(producer.publish_nowait(Envelope("", props, data=chunk)))
        if len(acks) >= 16:  # keep the broker from buffering much for us
            acks.pop(0).result(60)
    for ack in acks:
        ack.result(60)


def error_replies(consumer: ConsumerSocket, expected: int, timeout: float) -> list[Envelope]:
    """Error responses on ``consumer`` until ``expected`` came or ``timeout`` passed."""
    found: list[Envelope] = []
    deadline = time.monotonic() + timeout
    while len(found) < expected and time.monotonic() < deadline:
        try:
            envelope = consumer.receive(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if envelope.message_type == MessageType.RESPONSE.value:
            found.append(envelope)
    return found


@pytest.fixture
def served(start_broker, tmp_path):
    """A broker and a counting module; the module's fragment bounds come from ``env``."""
    started: list[BackendProcess] = []

    def start(env: dict[str, str] | None = None) -> tuple[str, str, BackendProcess]:
        broker = start_broker()
        topic = f"fragcaps-{uuid.uuid4().hex[:8]}"
        with pytest.MonkeyPatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            backend = BackendProcess(broker.url, topic, tmp_path / f"{topic}.count").start()
        started.append(backend)
        return broker.url, topic, backend

    yield start
    for backend in started:
        backend.stop()


def test_one_sender_cannot_pin_more_than_its_bound_at_realistic_size(served):
    """8 incomplete 32 MiB requests from one sender, default bounds (128 MiB per sender)."""
    url, topic, backend = served()
    broker = BrokerUrl.parse(url)
    response_topic = f"{topic}_attacker{uuid.uuid4().hex[:8]}"
    consumer = ConsumerSocket(broker.consumer(response_topic, "errors"), binary=True)
    producer = ProducerSocket(broker.producer(topic), topic=topic)
    rss = PeakRss(backend.process.pid)
    try:
        with rss.watching():
            for n in range(8):
                send_incomplete_set(producer, response_topic, f"set-{n}", 32 * MiB, 256 * 1024)
            replies = error_replies(consumer, 5, timeout=30)
        growth = rss.growth
        print(f"module RSS growth for 8 x 32 MiB incomplete sets: {growth / MiB:.0f} MiB")
        # 128 MiB of a sender's other sets + the 32 MiB set it is sending + slack; without
        # the bound all 256 MiB stay
        assert growth < 208 * MiB, f"the module grew by {growth / MiB:.0f} MiB"
        contexts = [r.request_context for r in replies]
        assert contexts[:4] == ["set-0", "set-1", "set-2", "set-3"], contexts
        for reply in replies:
            assert reply.properties.get(Prop.STATUS) == "error"
            assert reply.properties.get(Prop.ERROR_TYPE) == "PayloadTooLarge"
            text = decode_text_payload(reply.payload)
            assert DROPPED in text and "128 MiB" in text, text
    finally:
        producer.close()
        consumer.close()
    # the module still serves calls
    with connect(url, timeout=20) as conn:
        assert conn.module(topic).echo(tag="after", data="ok") == "ok"


def test_many_senders_cannot_pin_more_than_the_total_bound(served):
    """Scaled down: a 6 MiB total bound, 8 senders with one incomplete 2 MiB request each."""
    url, topic, backend = served(
        {
            "DASF_MODULE_FRAGMENTS_TOTAL": str(6 * MiB),
            "DASF_MODULE_FRAGMENTS_PER_SENDER": str(4 * MiB),
        }
    )
    broker = BrokerUrl.parse(url)
    senders = [f"{topic}_sender{i}x{uuid.uuid4().hex[:6]}" for i in range(8)]
    consumers = [ConsumerSocket(broker.consumer(t, "errors"), binary=True) for t in senders]
    producer = ProducerSocket(broker.producer(topic), topic=topic)
    try:
        for i, response_topic in enumerate(senders):
            send_incomplete_set(producer, response_topic, f"req-{i}", 2 * MiB, 64 * 1024)
        # 16 MiB sent, 6 MiB kept: the oldest five senders' requests were dropped and answered
        for i in range(5):
            (reply,) = error_replies(consumers[i], 1, timeout=20)
            assert reply.request_context == f"req-{i}"
            text = decode_text_payload(reply.payload)
            assert DROPPED in text and "6 MiB in total" in text, text
        assert error_replies(consumers[7], 1, timeout=1) == []  # the newest one is kept
    finally:
        producer.close()
        for consumer in consumers:
            consumer.close()
    # a complete fragmented request still runs, within the bounds
    with connect(url, timeout=20, fragment_size=64 * 1024) as conn:
        data = "x" * (MiB // 2)
        assert conn.module(topic).echo(tag="big", data=data) == data


def test_a_client_fails_the_call_whose_incomplete_reply_it_dropped(broker_url, monkeypatch):
    """Replies that never complete: the client drops the oldest and fails its call at once."""
    monkeypatch.setenv("DASF_CLIENT_FRAGMENTS_TOTAL", str(4 * MiB))
    topic = f"fragcaps-client-{uuid.uuid4().hex[:8]}"
    broker = BrokerUrl.parse(broker_url)
    requests = ConsumerSocket(broker.consumer(topic, "fake-backend"), binary=True)
    producers: dict[str, ProducerSocket] = {}
    first_answered = threading.Event()

    def fake_backend() -> None:
        """Answer each request with 3 of 4 reply fragments of 1 MiB (the last never comes)."""
        answered = 0
        while answered < 2:
            request = requests.receive(timeout=30)
            if request.message_type != MessageType.REQUEST.value:
                continue  # the broker's liveness probes
            answered += 1
            target = request.response_topic
            producer = producers.get(target) or ProducerSocket(broker.producer(target))
            producers[target] = producer
            for index in range(3):
                props = {
                    Prop.MESSAGE_TYPE: MessageType.RESPONSE.value,
                    Prop.SOURCE_TOPIC: topic,
                    Prop.REQUEST_CONTEXT: request.request_context,
                    Prop.FRAGMENT: index,
                    Prop.NUM_FRAGMENTS: 4,
                }
                producer.publish(Envelope("", props, data=b"\x01" * MiB))
            first_answered.set()
            time.sleep(0.5)  # the first call's fragments are older

    backend = threading.Thread(target=fake_backend, daemon=True)
    backend.start()
    try:
        with connect(broker_url, timeout=10) as conn:
            first = conn.submit(topic, {"func_name": "f"}, timeout=60)
            assert first_answered.wait(30), "the fake backend did not answer the first call"
            second = conn.submit(topic, {"func_name": "g"}, timeout=60)
            started = time.monotonic()
            with pytest.raises(PayloadTooLarge) as failed:
                first.result(timeout=30)
            assert time.monotonic() - started < 20  # not the call's 60 s timeout
            assert DROPPED in str(failed.value) and "4 MiB in total" in str(failed.value)
            assert not second.done()  # the newer incomplete reply is kept
    finally:
        backend.join(30)
        requests.close()
        for producer in producers.values():
            producer.close()


def test_a_request_larger_than_the_bounds_still_runs(served):
    """A sender's newest set may grow to the request limit: bounds drop only *other* sets."""
    url, topic, _backend = served(
        {"DASF_MODULE_FRAGMENTS_TOTAL": str(MiB), "DASF_MODULE_FRAGMENTS_PER_SENDER": str(MiB)}
    )
    broker = BrokerUrl.parse(url)
    producer = ProducerSocket(broker.producer(topic), topic=topic)
    other = ConsumerSocket(broker.consumer(f"{topic}_other", "errors"), binary=True)
    try:
        send_incomplete_set(producer, f"{topic}_other", "other", MiB // 2, 64 * 1024)
        with connect(url, timeout=30, fragment_size=64 * 1024) as conn:
            data = "y" * (3 * MiB // 2)  # about 2 MiB of base64: over both bounds
            assert conn.module(topic).echo(tag="t", data=data) == data
        (reply,) = error_replies(other, 1, timeout=20)  # the older set made room
        assert DROPPED in decode_text_payload(reply.payload)
    finally:
        producer.close()
        other.close()
