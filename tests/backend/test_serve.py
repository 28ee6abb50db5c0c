"""A served BackendModule driven with raw producer/consumer frames.

Every test runs on the in-memory broker (dasf_jupyter.testing: our broker's wire protocol,
no sockets) and over real websockets against dasf-broker-django (the reference). Our own
broker serves modules over websockets in tests/client, tests/reliability and tests/interop.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import string
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from deprogressapi import ProgressReport

from dasf_jupyter.backend import BackendModule, ProgressReporter
from dasf_jupyter.protocol import Envelope, FragmentAssembler, encode_json_payload, fragment_index
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerSocket, Transport

pytestmark = pytest.mark.timeout(180)

_topics = itertools.count(1)
GATE = threading.Event()  # opened by tests to let `blocked` return
BARRIER = threading.Barrier(2, timeout=20)


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def divide(a: float, b: float) -> float:
    return a / b


def big_text(n: int) -> str:
    return "y" * n


def counted(steps: int, reporter: ProgressReporter) -> int:
    with reporter.step("Counting", steps=steps) as sub:
        for _ in range(steps):
            sub.advance()
    return steps


def blocked() -> str:
    GATE.wait(30)
    return "released"


def meet() -> str:
    BARRIER.wait()  # only returns when a second call runs at the same time
    return "met"


def chatty(text: str) -> str:
    print("saying", text)
    return text


def not_a_number() -> int:
    return "oops"  # type: ignore[return-value]


class Greeter:
    """Greets people."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        return [f"hi {self.name}"] * times


MEMBERS = [add, divide, big_text, counted, blocked, meet, chatty, not_a_number, Greeter]


def letters(n: int = 8) -> str:
    return "".join(random.choices(string.ascii_letters, k=n))


def new_topic() -> str:
    return f"bt{next(_topics)}-{letters(6).lower()}"


class RawCaller:
    """A minimal DASF client from transport sockets: publish requests, collect replies."""

    def __init__(self, url: str, topic: str, transport: Transport | None = None) -> None:
        broker = BrokerUrl.parse(url)
        self.topic = topic
        self.response_topic = f"{topic}_{letters()}"
        self.consumer = ConsumerSocket(
            broker.consumer(self.response_topic, "test-" + letters()), transport=transport
        )
        self.producer = ProducerSocket(broker.producer(topic), topic=topic, transport=transport)
        self._contexts = itertools.count(1)
        self._backlog: dict[str | None, list[Envelope]] = {}

    def close(self) -> None:
        self.producer.close()
        self.consumer.close()

    def send(self, kind: str, payload: str = "", **props: Any) -> str:
        context = next(self._contexts)
        properties = {
            "messageType": kind,
            "requestContext": context,
            "response_topic": self.response_topic,
            **props,
        }
        self.producer.publish(Envelope(payload=payload, properties=properties), timeout=30)
        return str(context)

    def request(self, data: Any) -> str:
        return self.send("request", encode_json_payload(data))

    def replies(self, context: str, timeout: float = 60) -> list[Envelope]:
        """Messages for ``context`` up to and including the (last fragment of the) response."""
        got: list[Envelope] = []
        while True:
            backlog = self._backlog.setdefault(context, [])
            envelope = backlog.pop(0) if backlog else self.consumer.receive(timeout=timeout)
            props = envelope.properties
            if props.get("response_topic") == "status-ping":
                continue  # the broker's own probes
            if envelope.request_context != context:
                self._backlog.setdefault(envelope.request_context, []).append(envelope)
                continue
            got.append(envelope)
            if envelope.message_type in ("response", "pong"):
                index = fragment_index(props)
                if index is None or index[0] == index[1] - 1:
                    return got

    def result(self, context: str, timeout: float = 60) -> tuple[str, Any, list[Envelope]]:
        """``(status, value or error text, all messages)`` of one call."""
        messages = self.replies(context, timeout)
        responses = [m for m in messages if m.message_type == "response"]
        assembler = FragmentAssembler()
        payload = responses[-1].payload
        for message in responses:
            index = fragment_index(message.properties)
            if index is not None:
                payload = assembler.add(context, index[0], index[1], message.payload) or ""
        status = responses[-1].properties["status"]
        raw = base64.b64decode(payload)
        value = json.loads(raw) if status == "success" else raw.decode()
        return status, value, messages

    def call(self, data: Any, timeout: float = 60) -> tuple[str, Any]:
        status, value, _ = self.result(self.request(data), timeout)
        return status, value


@dataclass(frozen=True)
class Target:
    """Where a test serves its module and sends its calls."""

    url: str
    transport: Transport | None = None

    def serve(self, module: BackendModule):
        return module.serve_in_background(self.url, transport=self.transport)

    def caller(self, topic: str) -> RawCaller:
        return RawCaller(self.url, topic, self.transport)


@pytest.fixture(params=["memory", "reference"])
def any_broker(request: pytest.FixtureRequest) -> Target:
    if request.param == "memory":
        broker = request.getfixturevalue("memory_broker")
        return Target(broker.url, broker.transport)
    return Target(request.getfixturevalue("ref_broker_url"))


@pytest.fixture
def served(any_broker: Target) -> Iterator[tuple[Any, RawCaller]]:
    """A module with MEMBERS served on a fresh topic, and a raw caller for it."""
    topic = new_topic()
    module = BackendModule(topic, MEMBERS, "Test members.", max_workers=2, forward_output=True)
    handle = any_broker.serve(module)
    caller = any_broker.caller(topic)
    try:
        yield handle, caller
    finally:
        caller.close()
        handle.stop()


def test_ping_info_and_api_info_replies_have_the_reference_shape(served):
    handle, caller = served
    (pong,) = caller.replies(caller.send("ping"))
    assert pong.payload == ""
    assert {k: pong.properties[k] for k in ("messageType", "source_topic", "requestContext")} == {
        "messageType": "pong",
        "source_topic": handle.topic,
        "requestContext": "1",
    }
    assert "status" not in pong.properties

    context = caller.send("info")
    info = caller.consumer.receive(timeout=30)
    while info.request_context != context or info.properties.get("response_topic"):
        info = caller.consumer.receive(timeout=30)
    schema = json.loads(info.properties["info"])
    assert schema["title"] == handle.topic and info.message_type == "response"

    context = caller.send("api_info")
    api = caller.consumer.receive(timeout=30)
    while api.request_context != context or api.properties.get("response_topic"):
        api = caller.consumer.receive(timeout=30)
    api_info = json.loads(api.properties["api_info"])
    assert {f["name"] for f in api_info["functions"]} >= {"add", "divide", "counted"}
    assert [c["name"] for c in api_info["classes"]] == ["Greeter"]
    assert api.properties["source_topic"] == handle.topic


def test_function_and_class_method_calls_succeed(served):
    _, caller = served
    assert caller.call({"func_name": "add", "a": 2, "b": 3}) == ("success", 5)
    data = {"class_name": "Greeter", "name": "Ada", "function": {"func_name": "greet", "times": 2}}
    assert caller.call(data) == ("success", ["hi Ada", "hi Ada"])


BAD_PAYLOADS = {
    "invalid base64": ("%%%", "error validating request: payload is not valid base64"),
    "non-UTF-8": (
        base64.b64encode(b"\xff\xfe").decode(),
        "error validating request: payload is not valid UTF-8",
    ),
    "invalid JSON": (
        base64.b64encode(b"{nope").decode(),
        "error validating request: payload is not valid JSON",
    ),
    "unknown function": (
        encode_json_payload({"func_name": "nope"}),
        "error validating request: unknown function 'nope'",
    ),
    "wrong types": (
        encode_json_payload({"func_name": "add", "a": "two"}),
        "error validating request: add: a: ",
    ),
    "exception in user code": (
        encode_json_payload({"func_name": "divide", "a": 1, "b": 0}),
        "error executing request: float division by zero",
    ),
    "result cannot be encoded": (
        encode_json_payload({"func_name": "not_a_number"}),
        "error executing request: ",
    ),
}


def test_each_bad_input_gets_an_error_and_the_module_keeps_serving(served):
    _, caller = served
    for name, (payload, expected) in BAD_PAYLOADS.items():
        status, text, messages = caller.result(caller.send("request", payload))
        assert status == "error", name
        assert text.startswith(expected), (name, text)
        assert messages[-1].properties["dasf_error_type"], name
    assert caller.call({"func_name": "add", "a": 40, "b": 2}) == ("success", 42)


def test_progress_reaches_the_caller_before_the_response(served):
    _, caller = served
    status, value, messages = caller.result(caller.request({"func_name": "counted", "steps": 3}))
    assert (status, value) == ("success", 3)
    kinds = [m.message_type for m in messages]
    assert kinds[-1] == "response" and "progress" in kinds
    progress = [m for m in messages if m.message_type == "progress"]
    for message in progress:
        ProgressReport.model_validate_json(base64.b64decode(message.payload))
    assert progress[-1].properties["status"] == "success"


def test_output_of_a_call_arrives_as_log_messages(served):
    _, caller = served
    status, value, messages = caller.result(caller.request({"func_name": "chatty", "text": "hi"}))
    assert (status, value) == ("success", "hi")
    logs = [json.loads(base64.b64decode(m.payload)) for m in messages if m.message_type == "log"]
    assert {"level": "INFO", "message": "saying hi", "logger": "stdout"} in logs


def test_a_result_over_five_megabytes_arrives_in_fragments(served):
    _, caller = served
    n = 5 * 1024 * 1024 + 123
    status, value, messages = caller.result(caller.request({"func_name": "big_text", "n": n}))
    assert status == "success" and value == "y" * n
    fragments = [m for m in messages if m.message_type == "response"]
    assert len(fragments) == fragments[0].properties["num_fragments"] > 10


def test_two_slow_calls_run_at_the_same_time(served):
    _, caller = served
    BARRIER.reset()
    first = caller.request({"func_name": "meet"})
    second = caller.request({"func_name": "meet"})
    assert caller.result(first)[:2] == ("success", "met")
    assert caller.result(second)[:2] == ("success", "met")


def test_queue_overflow_is_rejected_at_once(any_broker):
    topic = new_topic()
    module = BackendModule(topic, MEMBERS, max_workers=1, queue_size=1)
    GATE.clear()
    with any_broker.serve(module):
        caller = any_broker.caller(topic)
        try:
            first = caller.request({"func_name": "blocked"})
            second = caller.request({"func_name": "add", "a": 1})
            status, text, _ = caller.result(second, timeout=30)  # arrives while first blocks
            assert (status, text) == (
                "error",
                "request rejected due to queue overflow, try again later",
            )
            GATE.set()
            assert caller.result(first)[:2] == ("success", "released")
            assert caller.call({"func_name": "add", "a": 1}) == ("success", 2)
        finally:
            GATE.set()
            caller.close()


def test_stop_is_idempotent_and_ends_the_handle(any_broker):
    module = BackendModule(new_topic(), [add])
    handle = any_broker.serve(module)
    assert handle.running
    handle.stop()
    handle.stop()
    assert not handle.running and handle.wait(1)
