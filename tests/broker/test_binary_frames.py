"""Binary frames in our broker (docs/binary-frames.md section 1), over real websockets."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from dasf_jupyter.broker import frames
from dasf_jupyter.broker.hub import MemoryHub
from dasf_jupyter.broker.inflight import BinaryDelivery, mark_delivery, route_of
from dasf_jupyter.protocol.binary import (
    BINARY_FRAMES_HEADER,
    decode_binary_frame,
    encode_binary_frame,
)
from tests.brokerfixtures import publish_frame, recv_json, scaled_out_brokers

WANT_BINARY = {BINARY_FRAMES_HEADER: "1"}
#: raw bytes that are neither UTF-8 nor base64-safe, with a 0x00 and a "{" in them
RAW = bytes(range(256)) * 3 + b"\x00{}"


def unique_topic(prefix: str = "bin") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ws(url: str, binary: bool = False, **kwargs: Any) -> ClientConnection:
    """A raw client; ``binary`` asks for binary deliveries."""
    headers = WANT_BINARY if binary else None
    return connect(
        url, compression=None, additional_headers=headers, open_timeout=10, max_size=None, **kwargs
    )


def is_probe(message: str | bytes) -> bool:
    if not isinstance(message, str):
        return False
    return json.loads(message).get("properties", {}).get("response_topic") == "status-ping"


def next_delivery(sock: ClientConnection, timeout: float = 10.0) -> str | bytes:
    """The next message that is not one of the broker's own probes."""
    while True:
        message = sock.recv(timeout=timeout)
        if not is_probe(message):
            return message


def request_header(context: int, response_topic: str | None = None, **props: Any) -> dict:
    properties: dict[str, Any] = {"messageType": "log" if response_topic is None else "request"}
    if response_topic is not None:
        properties.update(requestContext=context, response_topic=response_topic)
    properties.update(props)
    return {"properties": properties, "context": context}


def publish_binary(producer: ClientConnection, header: dict, payload: bytes = RAW) -> dict:
    producer.send(encode_binary_frame(header, payload))
    ack = producer.recv(timeout=10)
    assert isinstance(ack, str), "acks stay text"
    return json.loads(ack)


def as_text_frame(header: dict, ack: dict, payload: bytes = RAW) -> dict:
    """What a text consumer must get for a binary publish of ``header`` + ``payload``."""
    return {**header, "messageId": ack["messageId"], "payload": base64.b64encode(payload).decode()}


# --- handshake ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/{t}",
        "/{t}/sub",
        "/status-ping",
        "/v2/producer/persistent/public/default/{t}",
        "/v2/consumer/persistent/public/default/{t}/sub",
    ],
)
def test_every_websocket_route_announces_binary_frames(broker_url, path):
    with ws(broker_url + path.format(t=unique_topic())) as sock:
        assert sock.response.headers.get(BINARY_FRAMES_HEADER) == "1"


# --- delivery ----------------------------------------------------------------------------


def test_binary_publish_reaches_an_opted_in_consumer_as_binary(broker_url):
    topic = unique_topic()
    header = request_header(7, x="1")
    with ws(f"{broker_url}/{topic}/s", binary=True) as consumer, ws(f"{broker_url}/{topic}") as p:
        ack = publish_binary(p, header)
        assert ack["result"] == "ok" and ack["consumers"] == 1 and ack["context"] == 7
        delivery = next_delivery(consumer)
    assert isinstance(delivery, bytes)
    got, payload = decode_binary_frame(delivery)
    assert bytes(payload) == RAW
    assert got.pop("messageId") == ack["messageId"]
    assert got.pop("publishTime")
    assert got == header


def test_binary_publish_reaches_a_reference_consumer_as_base64_text(broker_url):
    topic = unique_topic()
    header = request_header(8)
    with ws(f"{broker_url}/{topic}/s") as consumer, ws(f"{broker_url}/{topic}") as producer:
        ack = publish_binary(producer, header)
        delivery = next_delivery(consumer)
    assert isinstance(delivery, str)
    got = json.loads(delivery)
    assert got.pop("publishTime")
    assert got == as_text_frame(header, ack)


def check_binary_and_text_subscriptions(consumer_base: str, producer_base: str, ctx: int) -> None:
    """A binary and a log publish reach a binary and a text subscription of one topic."""
    topic = unique_topic()
    header = request_header(ctx)
    with (
        ws(f"{consumer_base}/{topic}/binary", binary=True) as binary,
        ws(f"{consumer_base}/{topic}/text") as text,
        ws(f"{producer_base}/{topic}") as producer,
    ):
        ack = publish_binary(producer, header)
        assert ack["consumers"] == 2
        producer.send(publish_frame("aGk=", context=ctx + 1, message_type="log"))
        assert recv_json(producer)["consumers"] == 2
        to_binary = [next_delivery(binary), next_delivery(binary)]
        to_text = [next_delivery(text), next_delivery(text)]
    assert isinstance(to_binary[0], bytes) and bytes(decode_binary_frame(to_binary[0])[1]) == RAW
    assert isinstance(to_binary[1], str), "text publishes are delivered as text"
    assert json.loads(to_binary[1])["payload"] == "aGk="
    assert all(isinstance(m, str) for m in to_text)
    first = json.loads(to_text[0])
    first.pop("publishTime")
    assert first == as_text_frame(header, ack)
    assert json.loads(to_text[1])["context"] == ctx + 1


def test_one_topic_serves_a_binary_and_a_text_subscription(broker_url):
    check_binary_and_text_subscriptions(broker_url, broker_url, 9)


INVALID = [
    (b"\x00\x00", "shorter than its 4-byte header length"),
    (b"\x00\x00\x00\xff{}", "exceeds the frame"),
    (struct.pack(">I", 3) + b"{x}", "not valid JSON"),
    (struct.pack(">I", 2) + b"[]", "must be a JSON object"),
    (struct.pack(">I", 14) + b'{"payload":""}', "must not contain 'payload'"),
    (encode_binary_frame({"properties": [1]}), "'properties' must be a JSON object"),
    (encode_binary_frame({"messageId": 5, "context": 3}), "'messageId' must be a string"),
]


def test_invalid_binary_frames_are_refused_and_the_socket_stays_usable(broker_url):
    topic = unique_topic()
    with ws(f"{broker_url}/{topic}/s") as consumer, ws(f"{broker_url}/{topic}") as producer:
        for data, reason in INVALID:
            producer.send(data)
            ack = recv_json(producer)
            assert ack["result"].startswith("invalid message") and reason in ack["result"], ack
            assert ack["messageId"] is None
        assert ack["context"] == 3, "the context of a readable header is echoed"
        assert publish_binary(producer, request_header(11))["result"] == "ok"
        delivery = json.loads(next_delivery(consumer))
    assert delivery["context"] == 11, "no refused frame was delivered"


# --- requests: orphans and the unserved hold ----------------------------------------------


def assert_backend_disconnected(reply: dict, topic: str, context: int) -> None:
    props = reply["properties"]
    assert props["messageType"] == "response" and props["status"] == "error"
    assert props["dasf_error_type"] == "BackendDisconnected"
    assert props["requestContext"] == str(context) and props["source_topic"] == topic


def orphan_a_binary_request(producer_url: str, backend_url: str, reply_url: str) -> dict:
    """Deliver a binary request to a binary backend that drops out; return the caller's reply."""
    topic = backend_url.rsplit("/", 2)[-2]
    response_topic = reply_url.rsplit("/", 2)[-2]
    with ws(reply_url) as replies, ws(producer_url) as producer:
        with ws(backend_url, binary=True) as backend:
            ack = publish_binary(producer, request_header(21, response_topic))
            assert ack["consumers"] == 1
            request = next_delivery(backend)
            assert isinstance(request, bytes)
            backend.close(code=1011)  # not a goodbye: the broker answers at once
        reply = json.loads(next_delivery(replies, timeout=15))
    assert_backend_disconnected(reply, topic, 21)
    return reply


def test_binary_request_of_a_vanished_backend_is_answered(broker_url):
    topic = unique_topic()
    orphan_a_binary_request(
        f"{broker_url}/{topic}", f"{broker_url}/{topic}/backend", f"{broker_url}/{topic}_c/c1"
    )


def test_unserved_hold_delivers_and_answers_binary_requests(start_broker):
    url = start_broker(env={"DASF_UNSERVED_TIMEOUT": "1.5"}).url
    late, nobody = unique_topic("late"), unique_topic("nobody")
    with (
        ws(f"{url}/{nobody}_c/c1") as replies,
        ws(f"{url}/{late}") as to_late,
        ws(f"{url}/{nobody}") as to_nobody,
    ):
        assert publish_binary(to_late, request_header(1, f"{late}_c"))["consumers"] == 0
        assert publish_binary(to_nobody, request_header(2, f"{nobody}_c"))["consumers"] == 0
        with ws(f"{url}/{late}/backend", binary=True) as backend:
            held = next_delivery(backend)
        error = json.loads(next_delivery(replies, timeout=15))
    assert isinstance(held, bytes) and bytes(decode_binary_frame(held)[1]) == RAW
    assert decode_binary_frame(held)[0]["properties"]["requestContext"] == 1
    assert error["properties"]["status"] == "error" and error["properties"]["requestContext"] == 2
    text = base64.b64decode(error["payload"]).decode()
    assert text == f"no backend module consumed topic '{nobody}' within 1.5 s"


# --- status-ping and size limit ------------------------------------------------------------


def test_status_ping_accepts_binary_replies(broker_url):
    topic = unique_topic("backend")
    api_info = {"classes": [], "functions": [{"name": "f"}], "rpc_schema": {}}
    with ws(f"{broker_url}/{topic}/module") as backend, ws(f"{broker_url}/status-ping") as sink:
        backend.recv(timeout=10), backend.recv(timeout=10)  # the probes
        props = {"messageType": "response", "requestContext": "1", "source_topic": topic}
        props["api_info"] = json.dumps(api_info)
        assert publish_binary(sink, {"properties": props, "context": "1"})["result"] == "ok"
        props["source_topic"] = "no-such-topic-" + uuid.uuid4().hex
        refused = publish_binary(sink, {"properties": props, "context": "1"})
        assert "does not exist" in refused["result"]
        sink.send(b"\x00\x00\x00")
        assert "shorter" in recv_json(sink)["result"]
    base = broker_url.replace("ws://", "http://").rsplit("/ws", 1)[0]
    with urllib.request.urlopen(f"{base}/api/topics/{topic}/", timeout=10) as response:
        assert json.load(response)["api_info"] == api_info


def test_max_message_size_applies_to_binary_frames(start_broker):
    broker = start_broker(extra_args=["--max-message-size", "4096"])
    topic = unique_topic()
    with ws(f"{broker.url}/{topic}/s") as consumer, ws(f"{broker.url}/{topic}") as producer:
        assert publish_binary(producer, request_header(1), b"x" * 3000)["result"] == "ok"
        text = json.loads(next_delivery(consumer))  # larger than the limit as text: still sent
        assert base64.b64decode(text["payload"]) == b"x" * 3000
        producer.send(encode_binary_frame(request_header(2), b"x" * 5000))
        with pytest.raises(ConnectionClosed) as info:
            producer.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


# --- units: the hub and in-flight bookkeeping on bytes ------------------------------------


def binary_delivery(header: dict, payload: bytes = RAW) -> bytes:
    data = encode_binary_frame(header, payload)
    return frames.delivery_of(data, frames.parse_any_publish(data), "id", "now")


def test_routes_of_binary_deliveries_tagged_and_parsed():
    delivery = binary_delivery(request_header(5, "caller_x"))
    tagged = mark_delivery(delivery, decode_binary_frame(delivery)[0])
    assert isinstance(tagged, BinaryDelivery) and tagged == delivery
    assert route_of(tagged) == ("caller_x", "5")
    assert route_of(bytes(tagged)) == ("caller_x", "5"), "as from Redis: the header is parsed"
    big = binary_delivery(request_header(6, "caller_y"), b"\x00" * (2 << 20))
    assert route_of(big) == ("caller_y", "6"), "payload size does not matter"
    assert route_of(binary_delivery(request_header(7))) is None
    assert route_of(b"\x00\x00\x00\x09garbage") is None


def test_memory_hub_counts_binary_backlog_in_bytes():
    async def scenario() -> list[str]:
        hub = MemoryHub(max_backlog_chars=2500)
        receiver = await hub.attach("t", "s")
        overflows: list[str] = []
        receiver.on_overflow = overflows.append
        frame = binary_delivery(request_header(1), b"\x00" * 1000)
        assert await hub.publish("t", frame) == 1
        assert await hub.publish("t", frame) == 1
        assert await receiver.get() == frame
        assert await hub.publish("t", frame) == 1
        assert not overflows
        assert await hub.publish("t", frame) == 0, "a third queued frame exceeds 2500 bytes"
        return overflows

    overflows = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert overflows and "consumer too slow" in overflows[0]


# --- Redis hub: two broker processes ------------------------------------------------------


@pytest.fixture(scope="module")
def redis_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """URLs of brokers A and B sharing a fresh PostgreSQL database and Redis key prefix."""
    with scaled_out_brokers(tmp_path_factory.mktemp("binary-redis"), "bin") as (a, b):
        yield a.url, b.url


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_hub_carries_binary_frames_between_brokers(redis_pair):
    a, b = redis_pair
    check_binary_and_text_subscriptions(a, b, 31)


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_hub_answers_binary_requests_of_a_vanished_backend(redis_pair):
    a, b = redis_pair
    topic = unique_topic()
    orphan_a_binary_request(f"{b}/{topic}", f"{a}/{topic}/backend", f"{b}/{topic}_c/c1")
