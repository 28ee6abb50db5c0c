"""A connection opens every socket and HTTP request through the transport it was given."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.client.probe import BrokerUnreachable, check_broker
from dasf_jupyter.errors import BrokerError, ConnectionLost, DasfError
from dasf_jupyter.protocol import Envelope
from dasf_jupyter.transport import WEBSOCKETS, BrokerUrl, FrameSocket, HttpAnswer
from tests.client.scripted_broker import EchoBackend, scripted_broker
from tests.conftest import free_port
from tests.waiting import eventually


class Recording:
    """Real websockets, with a note of every URL opened."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        max_size: int | None = None,
    ) -> FrameSocket:
        self.opened.append(url)
        return WEBSOCKETS.open(url, headers, open_timeout=open_timeout, max_size=max_size)

    def get(self, url: str, headers=None, *, timeout: float = 10.0) -> HttpAnswer:
        raise AssertionError("no HTTP expected")


class Answering:
    """No network at all: every GET gets ``answer``, every socket ``error``."""

    def __init__(self, answer: HttpAnswer | Exception) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str]]] = []

    def open(self, url, headers=None, *, open_timeout=10.0, max_size=None) -> FrameSocket:
        raise ConnectionLost(f"nothing at {url}")

    def get(self, url: str, headers=None, *, timeout: float = 10.0) -> HttpAnswer:
        self.requests.append((url, dict(headers or {})))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_calls_and_pongs_open_their_sockets_through_the_transport():
    transport = Recording()
    with scripted_broker(free_port()) as scripted:
        scripted.backend = EchoBackend()
        with connect(scripted.url, transport=transport) as conn:
            assert conn.call("probe", {"func_name": "echo", "text": "hi"})["text"] == "hi"
            (response_topic,) = [t for t in scripted._consumers if t.startswith("probe_")]
            ping = {"messageType": "ping", "requestContext": 1, "response_topic": "status-ping"}
            scripted.deliver(response_topic, Envelope("", ping, message_id="p1"))
            eventually(
                lambda: [e for t, e in scripted.published if t == "status-ping"],
                message="a pong published to status-ping",
            )
    broker = BrokerUrl.parse(scripted.url)
    consumer, producer, pong = transport.opened
    assert consumer.startswith(broker.producer(response_topic) + "/python-client-")
    assert producer == broker.producer("probe")
    assert pong == broker.producer("status-ping")


def test_listing_modules_goes_through_the_transport():
    body = json.dumps([{"topic": "climate", "online": True}]).encode()
    transport = Answering(HttpAnswer(200, body))
    with connect("ws://broker.invalid:1/ws", "secret", transport=transport) as conn:
        [info] = conn.modules()
    assert info.topic == "climate" and info.online is True
    [(url, headers)] = transport.requests
    assert url == "http://broker.invalid:1/api/topics/"
    assert headers["Authorization"] == "Token secret"


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (HttpAnswer(404, b""), DasfError, "no discovery API"),
        (HttpAnswer(403, b""), BrokerError, "refused to list modules"),
        (HttpAnswer(500, b""), BrokerError, "HTTP 500"),
        (HttpAnswer(200, b"<html>"), DasfError, "did not answer with JSON"),
        (ConnectionLost("refused"), BrokerError, "cannot reach"),
    ],
)
def test_listing_modules_explains_each_failure(answer, error, text):
    conn = connect("ws://broker.invalid:1/ws", transport=Answering(answer))
    with conn, pytest.raises(error, match=text):
        conn.modules()


def test_a_call_without_a_reachable_broker_fails_through_the_transport():
    conn = connect("ws://broker.invalid:1/ws", transport=Answering(HttpAnswer(200, b"")))
    with conn, pytest.raises(ConnectionLost, match="nothing at ws://broker.invalid:1/ws"):
        conn.call("topic", {"func_name": "f"})


def test_the_broker_check_opens_its_probe_through_the_transport():
    with pytest.raises(BrokerUnreachable, match="nothing at"):
        check_broker("ws://broker.invalid:1/ws", transport=Answering(HttpAnswer(200, b"")))
