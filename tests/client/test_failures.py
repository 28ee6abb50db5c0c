"""Calls that cannot succeed fail with an error that says why, and never hang."""

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
from tests.client.conftest import fresh_topic, serve_sample
from tests.client.scripted_broker import EchoBackend, scripted_broker
from tests.conftest import free_port
from tests.waiting import eventually


@pytest.fixture
def scripted():
    with scripted_broker(free_port()) as broker:
        yield broker


def test_a_refused_publish_fails_at_once_with_broker_refused(scripted):
    scripted.ack_result = "User is not allowed to publish to this topic"
    with connect(scripted.url, timeout=600) as conn, pytest.raises(BrokerRefused) as info:
        conn.call("secret", {"func_name": "add", "a": 1})
    message = str(info.value)
    assert "not allowed to publish" in message
    assert "'secret'" in message and "token" in message


def test_an_unserved_topic_on_our_broker_fails_from_the_ack(broker_url):
    topic = fresh_topic("none")
    with connect(broker_url) as conn, pytest.raises(ModuleNotServed) as info:
        conn.module(topic, timeout=60)
    # the ack's consumer count, not the 60 s discovery timeout, ended the wait
    assert "no consumer" in str(info.value) and topic in str(info.value)
    with connect(broker_url) as conn, pytest.raises(ModuleNotServed, match="no consumer"):
        conn.call(topic, {"func_name": "add", "a": 1})


def test_a_broker_ping_is_answered_with_a_pong(scripted):
    scripted.backend = EchoBackend()
    with connect(scripted.url) as conn:
        conn.module("probe")  # opens the response consumer
        (response_topic,) = [t for t in scripted._consumers if t.startswith("probe_")]
        ping = {"messageType": "ping", "requestContext": 1, "response_topic": "status-ping"}
        scripted.deliver(response_topic, Envelope("", ping, message_id="p1"))
        pong = eventually(
            lambda: [e for t, e in scripted.published if t == "status-ping"],
            message="a pong published to status-ping",
        )
    assert pong[0].properties == {
        "messageType": "pong",
        "requestContext": 1,
        "source_topic": response_topic,
    }


def test_large_requests_are_fragmented_when_the_module_announces_it(scripted):
    backend = scripted.backend = EchoBackend()
    with connect(scripted.url, fragment_size=1000) as conn:
        remote = conn.module("frag")
        text = "x" * 10_000
        assert remote.echo(text) == {"func_name": "echo", "text": text}
    assert backend.fragments_seen >= 10


def test_requests_stay_whole_for_modules_without_the_announcement(scripted):
    backend = scripted.backend = EchoBackend()
    with connect(scripted.url, fragment_size=1000) as conn:
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


def test_closing_the_connection_fails_pending_calls(served):
    url, topic = served
    conn = connect(url)
    future = conn.module(topic, timeout=30).sleep.submit(3.0)  # still running at close()
    conn.close()
    with pytest.raises(ConnectionLost, match="closed"):
        future.result(timeout=30)
    with pytest.raises(DasfError, match="closed"):
        conn.call(topic, {"func_name": "add", "a": 1})


def test_broker_probes_with_a_colliding_context_do_not_answer_a_call(scripted):
    echo = EchoBackend()

    def probe_then_answer(envelope: Envelope) -> list[Envelope]:
        context = envelope.properties["requestContext"]
        # dasf-broker-django probes new consumers with requestContext 1, like our first call
        probe = {"messageType": "api_info", "requestContext": context, "response_topic": "x"}
        return [Envelope("", probe, message_id="probe"), *echo(envelope)]

    scripted.backend = probe_then_answer
    with connect(scripted.url) as conn:
        assert conn.call("probed", {"func_name": "echo", "text": "t"})["text"] == "t"
    assert not [t for t, _ in scripted.published if t == "x"], "the client answered a probe"


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


def test_a_reassembled_result_over_the_limit_fails_with_payload_too_large(broker_url):
    topic = fresh_topic("limit")
    with serve_sample(broker_url, topic, fragment_size=1000):
        with (
            connect(broker_url, max_payload=5000) as conn,
            pytest.raises(PayloadTooLarge, match="limit of 5000"),
        ):
            conn.module(topic, timeout=30).big_grid(50)  # ~27 kB of base64
        with connect(broker_url) as conn:
            assert conn.module(topic, timeout=30).big_grid(50).shape == (50, 50)
