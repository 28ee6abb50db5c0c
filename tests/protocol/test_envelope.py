"""The DASF frames as the reference sends them decode and encode the same way."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dasf_jupyter.errors import ProtocolError
from dasf_jupyter.protocol import (
    Envelope,
    MessageType,
    decode_delivery,
    decode_json_payload,
    decode_publish,
    decode_publish_ack,
    decode_text_payload,
    encode_consumer_ack,
    encode_delivery,
    encode_json_payload,
    encode_publish,
    encode_publish_ack,
    encode_text_payload,
    is_rpc_message,
    message_type_of,
)

# PROTOCOL.md §6.1: the TS client's request for add(a=2, b=3)
TS_REQUEST = (
    '{"payload": "eyJmdW5jX25hbWUiOiJhZGQiLCJhIjoyLCJiIjozfQ==", "context": "1",'
    ' "properties": {"messageType": "request", "response_topic": "probe-topic_5f3c9a1b2d4e6",'
    ' "requestContext": "1"}}'
)


def test_reference_request_decodes_to_its_parts():
    env = decode_publish(TS_REQUEST)
    assert env.message_type == "request"
    assert env.request_context == "1"
    assert env.response_topic == "probe-topic_5f3c9a1b2d4e6"
    assert decode_json_payload(env.payload) == {"func_name": "add", "a": 2, "b": 3}
    assert is_rpc_message(env)
    assert message_type_of(env) is MessageType.REQUEST


def test_python_client_int_request_context_reads_as_text():
    env = decode_delivery(
        '{"properties": {"response_topic": "t_abc", "requestContext": 0,'
        ' "messageType": "request"}, "payload": "", "context": 0, "messageId": "m1",'
        ' "publishTime": "2024-05-01T12:00:00+00:00"}'
    )
    assert env.request_context == "0"
    assert env.message_id == "m1"
    assert env.publish_time == "2024-05-01T12:00:00+00:00"


def test_publish_frame_round_trips():
    env = Envelope(payload=encode_json_payload([1, "ä"]), properties={"messageType": "response"})
    text = encode_publish(Envelope(env.payload, env.properties, context=7))
    back = decode_publish(text)
    assert back.context == 7
    assert decode_json_payload(back.payload) == [1, "ä"]


def test_delivery_keeps_message_id_and_publish_time():
    env = Envelope("", {"messageType": "ping"}, context="3", message_id="x", publish_time="t")
    obj = json.loads(encode_delivery(env))
    assert obj == {
        "payload": "",
        "properties": {"messageType": "ping"},
        "context": "3",
        "messageId": "x",
        "publishTime": "t",
    }


def test_publish_ack_of_django_and_pulsar_brokers_decode():
    ok = decode_publish_ack('{"messageId": "u", "context": 1, "result": "ok"}')
    assert ok.ok and ok.context == 1
    refused = decode_publish_ack('{"result": "send-error:8", "errorMsg": "boom", "context": "1"}')
    assert not refused.ok and refused.error_msg == "boom"
    assert decode_publish_ack(encode_publish_ack("ok", "m", 5)).message_id == "m"


def test_consumer_ack_names_the_message():
    assert json.loads(encode_consumer_ack("abc")) == {"messageId": "abc"}


@pytest.mark.parametrize(
    "frame, fragment",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"payload": 5}', "'payload' must be a"),
        ('{"properties": []}', "'properties' must be a JSON object"),
    ],
)
def test_malformed_frames_raise_protocol_error(frame, fragment):
    # the reasons of protocol/wire.py, which the broker sends back in its ack
    with pytest.raises(ProtocolError, match="^invalid message: .*" + fragment):
        decode_publish(frame)


def test_payload_errors_name_their_cause():
    with pytest.raises(ProtocolError, match="base64"):
        decode_json_payload("***")
    with pytest.raises(ProtocolError, match="UTF-8"):
        decode_json_payload("//79")  # b"\xff\xfe\xfd"
    with pytest.raises(ProtocolError, match="JSON"):
        decode_json_payload(encode_text_payload("not json"))


def test_text_payload_survives_invalid_utf8():
    assert decode_text_payload("//79") == "\ufffd\ufffd\ufffd"
    assert decode_text_payload(encode_text_payload("Grüße")) == "Grüße"


def test_shape_check_needs_all_three_properties():
    assert not is_rpc_message(Envelope("", {"messageType": "ping", "requestContext": 1}))
    assert not is_rpc_message(Envelope("", {"response_topic": "t", "requestContext": 1}))
    assert not is_rpc_message(
        Envelope("", {"messageType": "ping", "response_topic": "t", "requestContext": {}})
    )


@given(st.text() | st.binary())
def test_decoders_raise_only_protocol_error(data):
    for decode in (decode_publish, decode_delivery, decode_publish_ack):
        with contextlib.suppress(ProtocolError):
            decode(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_json_payload_round_trips(value):
    assert decode_json_payload(encode_json_payload(value)) == value


@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_any_json_object_is_a_publish_frame_or_a_clear_error(obj):
    try:
        env = decode_publish(json.dumps(obj))
    except ProtocolError:
        return
    assert isinstance(env.properties, dict) and isinstance(env.payload, str)
