"""Calls that cannot succeed fail with an error that says why, and never hang.

Tests of the client's own logic run on the in-memory broker (dasf_jupyter.testing), with a
scripted backend where a real module would not misbehave on demand; tests of lost and
restarted brokers use real websockets.
"""

from __future__ import annotations

import threading

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import (
    BrokerRefused,
    ConnectionLost,
    DasfError,
    ModuleNotServed,
    PayloadTooLarge,
)
from dasf_jupyter.protocol import Envelope
from dasf_jupyter.testing import InMemoryBroker
from dasf_jupyter.transport import BrokerUrl, ProducerSocket
from tests.client.conftest import fresh_topic, serve_sample
from tests.client.memory_backend import scripted_backend
from tests.client.scripted_broker import EchoBackend
from tests.waiting import eventually


def _connect(broker: InMemoryBroker, **options):
    return connect(broker.url, transport=broker.transport, **options)


def test_a_refused_publish_fails_at_once_with_broker_refused(memory_broker):
    memory_broker.refuse("secret", "User is not allowed to publish to this topic")
    with _connect(memory_broker, timeout=600) as conn, pytest.raises(BrokerRefused) as info:
        conn.call("secret", {"func_name": "add", "a": 1})
    message = str(info.value)
    assert "not allowed to publish" in message
    assert "'secret'" in message and "token" in message


def test_an_unserved_topic_fails_from_the_acks_consumer_count(memory_broker):
    topic = fresh_topic("none")
    with _connect(memory_broker) as conn, pytest.raises(ModuleNotServed) as info:
        conn.module(topic, timeout=60)
    # the ack's consumer count, not the 60 s discovery timeout, ended the wait
    assert "no consumer" in str(info.value) and topic in str(info.value)
    with _connect(memory_broker) as conn, pytest.raises(ModuleNotServed, match="no consumer"):
        conn.call(topic, {"func_name": "add", "a": 1})


def test_a_broker_ping_is_answered_with_a_pong(memory_broker):
    with scripted_backend(memory_broker, "probe", EchoBackend()), _connect(memory_broker) as conn:
        conn.module("probe")  # opens the response consumer
        (response_topic,) = {
            p["response_topic"] for t, p in memory_broker.published if t == "probe"
        }
        ping = {"messageType": "ping", "requestContext": 1, "response_topic": "status-ping"}
        url = BrokerUrl.parse(memory_broker.url).producer(response_topic)
        pinger = ProducerSocket(url, transport=memory_broker.transport)
        pinger.publish(Envelope("", ping))
        pinger.close()
        pongs = eventually(
            lambda: [p for t, p in memory_broker.published if t == "status-ping"],
            message="a pong published to status-ping",
        )
    assert pongs[0] == {
        "messageType": "pong",
        "requestContext": 1,
        "source_topic": response_topic,
    }


def test_large_requests_are_fragmented_when_the_module_announces_it(memory_broker):
    backend = EchoBackend()
    with (
        scripted_backend(memory_broker, "frag", backend),
        _connect(memory_broker, fragment_size=1000) as conn,
    ):
        remote = conn.module("frag")
        text = "x" * 10_000
        assert remote.echo(text) == {"func_name": "echo", "text": text}
    assert backend.fragments_seen >= 10


def test_requests_stay_whole_for_modules_without_the_announcement(memory_broker):
    backend = EchoBackend()
    with (
        scripted_backend(memory_broker, "whole", backend),
        _connect(memory_broker, fragment_size=1000) as conn,
    ):
        assert conn.call("whole", {"func_name": "echo", "text": "y" * 5000})["text"] == "y" * 5000
    assert backend.fragments_seen == 0


def test_a_lost_broker_fails_pending_calls_with_connection_lost(start_broker):
    broker = start_broker()
    topic = fresh_topic("lost")
    with serve_sample(broker.url, topic), connect(broker.url) as conn:
        remote = conn.module(topic, timeout=30)
        running = threading.Event()
        # runs for 4 s, reporting each step: the first report says the call runs
        future = remote.count_slowly.submit(40, delay=0.1, on_progress=lambda _: running.set())
        assert running.wait(30), "the call did not start"
        broker.stop()
        with pytest.raises(ConnectionLost):
            future.result(timeout=60)


def test_the_same_connection_works_again_after_the_broker_restarts(start_broker):
    broker = start_broker()
    topic = fresh_topic("again")
    with serve_sample(broker.url, topic), connect(broker.url) as conn:
        assert conn.module(topic, timeout=30).add(1, 1) == 2
        broker.stop()
        broker.start()  # same port and data; the backend reconnects by itself
        remote = eventually(
            lambda: _module_or_none(conn, topic), timeout=60, message="the module to be back"
        )
        assert remote.add(2, 2) == 4


def _module_or_none(conn, topic):
    try:
        return conn.module(topic, timeout=5)
    except (ConnectionLost, ModuleNotServed):
        return None


def test_closing_the_connection_fails_pending_calls(served, client_transport):
    url, topic = served
    conn = connect(url, transport=client_transport)
    # pending when the connection closes; short, as the module cannot abandon it
    future = conn.module(topic, timeout=30).sleep.submit(3.0)
    conn.close()
    with pytest.raises(ConnectionLost, match="closed"):
        future.result(timeout=30)
    with pytest.raises(DasfError, match="closed"):
        conn.call(topic, {"func_name": "add", "a": 1})


def test_broker_probes_with_a_colliding_context_do_not_answer_a_call(memory_broker):
    echo = EchoBackend()

    def probe_then_answer(envelope: Envelope) -> list[Envelope]:
        context = envelope.properties["requestContext"]
        # dasf-broker-django probes new consumers with requestContext 1, like our first call
        probe = {"messageType": "api_info", "requestContext": context, "response_topic": "x"}
        return [Envelope("", probe, message_id="probe"), *echo(envelope)]

    with (
        scripted_backend(memory_broker, "probed", probe_then_answer),
        _connect(memory_broker) as conn,
    ):
        assert conn.call("probed", {"func_name": "echo", "text": "t"})["text"] == "t"
    assert not [t for t, _ in memory_broker.published if t == "x"], "the client answered a probe"


def test_bad_urls_topics_and_timeouts_are_rejected_before_any_io():
    with pytest.raises(ValueError, match="not a websocket URL"):
        connect("ftp://example.org")
    with pytest.raises(ValueError, match="finite positive"):
        connect("ws://127.0.0.1:9/ws", timeout=float("inf"))
    with connect("ws://127.0.0.1:9/ws") as conn:
        with pytest.raises(ValueError, match="invalid topic name"):
            conn.module("../etc")
        with pytest.raises(TypeError, match="must be a dict"):
            conn.call("fine", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_a_reassembled_result_over_the_limit_fails_with_payload_too_large(memory_broker):
    topic = fresh_topic("limit")
    url, transport = memory_broker.url, memory_broker.transport
    with serve_sample(url, topic, transport, fragment_size=1000):
        with (
            _connect(memory_broker, max_payload=5000) as conn,
            pytest.raises(PayloadTooLarge, match="limit of 5000"),
        ):
            conn.module(topic, timeout=30).big_grid(50)  # ~27 kB of base64
        with _connect(memory_broker) as conn:
            assert conn.module(topic, timeout=30).big_grid(50).shape == (50, 50)
