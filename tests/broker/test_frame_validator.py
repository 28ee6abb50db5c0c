"""The broker and the peers parse frames alike: a differential table of odd frames.

Each frame goes through the peers' decoder (``protocol.decode_publish`` /
``decode_delivery``) and the broker's parser (``broker.frames.parse_any_publish``): both
accept it or both refuse it with the same reason, and an accepted frame means the same to
both. Before they shared ``protocol/wire.py`` they disagreed on a non-string ``messageId``
(the broker refused, peers turned it into text) and on ``"properties": null`` (the broker
took it as absent, peers refused the frame).
"""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.sync.client import connect

from dasf_jupyter.broker import frames
from dasf_jupyter.errors import ProtocolError
from dasf_jupyter.protocol import (
    STATUS_PING_TOPIC,
    Envelope,
    b64encode,
    decode_delivery,
    decode_publish,
)
from dasf_jupyter.protocol.binary import encode_binary_frame
from tests.broker.test_routes import unique_topic
from tests.brokerfixtures import publish_frame, recv_json

ODD_FRAMES: list[str | bytes] = [
    '{"payload": "", "properties": {}}',
    "{}",
    '{"payload": "aGk=", "properties": {"messageType": "log"}, "context": 3, "extra": [1]}',
    '{"payload": null}',
    '{"properties": null}',
    '{"messageId": null}',
    '{"messageId": ""}',
    '{"messageId": "m-1"}',
    '{"messageId": 5}',
    '{"messageId": 5.5}',
    '{"messageId": true}',
    '{"messageId": ["x"]}',
    '{"messageId": {"a": 1}}',
    '{"publishTime": 5}',
    '{"publishTime": null}',
    '{"context": {"x": [1]}}',
    '{"payload": 5}',
    '{"payload": true}',
    '{"payload": []}',
    '{"payload": {}}',
    '{"properties": []}',
    '{"properties": "x"}',
    '{"properties": 0}',
    '{"properties": false}',
    '{"payload": 5, "properties": []}',
    '{"properties": [], "messageId": 5}',
    '{"payload": "a", "payload": 5}',
    '{"payload": "\\ud800"}',
    ' {"payload": ""} ',
    "\ufeff{}",
    "[]",
    "[1, 2]",
    "null",
    "42",
    '"s"',
    "true",
    "",
    " ",
    "{",
    "not json",
    "[" * 100_000,
    '{"n": ' + "9" * 5000 + "}",
    b'{"payload": "\xff"}',
    b'{"payload": ""}',
    '{"payload": "", "properties": {}}'.encode("utf-16"),
    b"\x00",
    b"\x00\x00",
    b"\x00\x00\x00",
    b"\x00\x00\x00\x00",
    b"\x00\x00\x00\x02{}",
    b"\x00\x00\x00\x02[]",
    b"\x00\x00\x00\x03{x}",
    b"\x00\x00\x00\xff{}",
    struct.pack(">I", 14) + b'{"payload":""}',
    encode_binary_frame({"properties": [1]}),
    encode_binary_frame({"properties": None}, b"raw"),
    encode_binary_frame({"messageId": 5, "context": 3}),
    encode_binary_frame({"messageId": "m", "context": 3}, b"\x00\x01"),
    encode_binary_frame({"publishTime": 7}),
]


def _outcome(parse, frame):
    try:
        return "ok", parse(frame)
    except ProtocolError as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("frame", ODD_FRAMES, ids=lambda f: repr(f)[:32])
def test_broker_and_peers_accept_and_refuse_the_same_frames(frame):
    broker, peer, consumer = (
        _outcome(frames.parse_any_publish, frame),
        _outcome(decode_publish, frame),
        _outcome(decode_delivery, frame),
    )
    assert broker[0] == peer[0] == consumer[0], (broker, peer)
    if broker[0] == "refused":
        assert broker[1] == peer[1] == consumer[1]
        assert broker[1].startswith("invalid message: ")
        return
    obj, envelope = broker[1], peer[1]
    assert envelope.properties == frames.properties_of(obj)
    assert envelope.message_id == obj.get("messageId")
    assert envelope.context == obj.get("context")
    assert envelope.payload == (obj.get("payload") or "")
    if frames.looks_binary(frame):
        assert isinstance(frame, bytes) and envelope.data is not None
        assert frame.endswith(bytes(envelope.data))
    else:
        assert envelope.data is None


@pytest.mark.parametrize("frame", ODD_FRAMES, ids=lambda f: repr(f)[:32])
def test_a_delivery_of_any_accepted_frame_is_readable_by_a_peer(frame):
    try:
        obj = frames.parse_any_publish(frame)
    except ProtocolError:
        return
    published = decode_publish(frame)
    delivery = frames.delivery_of(frame, obj, "id-1", "2024-01-01T00:00:00+00:00")
    received = decode_delivery(delivery)
    assert received.message_id == "id-1"
    assert received.publish_time == "2024-01-01T00:00:00+00:00"
    assert received.properties == published.properties
    assert received.context == published.context
    assert received.wire_payload() == published.wire_payload()


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
field_values = (
    json_scalars
    | st.lists(json_scalars, max_size=2)
    | st.dictionaries(st.text(max_size=3), json_scalars, max_size=2)
)
frame_objects = st.fixed_dictionaries(
    {},
    optional={
        "payload": field_values | st.just(b64encode(b"x")),
        "properties": field_values,
        "messageId": field_values,
        "publishTime": field_values,
        "context": field_values,
    },
)


@given(frame_objects, st.booleans())
def test_broker_and_peers_agree_on_any_frame_object(obj, binary):
    if binary:
        obj = {k: v for k, v in obj.items() if k != "payload"}
        frame: str | bytes = encode_binary_frame(obj, b"raw")
    else:
        frame = json.dumps(obj)
    broker, peer = _outcome(frames.parse_any_publish, frame), _outcome(decode_publish, frame)
    assert broker[0] == peer[0]
    if broker[0] == "refused":
        assert broker[1] == peer[1]
    else:
        assert peer[1].message_id == broker[1].get("messageId")
        assert peer[1].properties == frames.properties_of(broker[1])


LIVE_FRAMES = [
    '{"payload": "", "properties": null, "context": 1}',
    '{"payload": "", "messageId": 5, "context": 2}',
    '{"payload": null, "properties": [], "context": 3}',
    '{"payload": "", "context": 4}'.encode("utf-16"),
    b'{"payload": "", "context": 5}',
    encode_binary_frame({"messageId": ["m"], "context": 6}, b"raw"),
]


def _next_delivery(consumer) -> Envelope:
    """The next delivery that is not one of the broker's own probes."""
    while True:
        envelope = decode_delivery(consumer.recv(timeout=10))
        if envelope.response_topic != STATUS_PING_TOPIC:
            return envelope


@pytest.mark.parametrize("frame", LIVE_FRAMES, ids=lambda f: repr(f)[:32])
def test_the_live_broker_acks_with_the_validators_verdict(broker_url, frame):
    topic = unique_topic()
    with connect(f"{broker_url}/{topic}/s") as consumer, connect(f"{broker_url}/{topic}") as prod:
        prod.send(frame)
        ack = recv_json(prod)
        verdict = _outcome(decode_publish, frame)
        if verdict[0] == "refused":
            assert ack["result"] == verdict[1]
            assert ack["messageId"] is None
        else:
            assert ack["result"] == "ok"
            delivered = _next_delivery(consumer)
            assert delivered.message_id == ack["messageId"]
            assert delivered.properties == verdict[1].properties
        prod.send(publish_frame(context=99, message_type="log"))
        assert recv_json(prod)["result"] == "ok", "the socket stays usable"
