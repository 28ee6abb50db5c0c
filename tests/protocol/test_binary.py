"""Binary frames, binary bodies and raw fragments (docs/binary-frames.md), as pure functions."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.errors import ProtocolError
from dasf_jupyter.protocol import Envelope, FragmentAssembler, decode_delivery, encode_publish
from dasf_jupyter.protocol.binary import (
    binary_to_text,
    decode_binary_frame,
    encode_binary_frame,
    is_binary_frame,
    with_header_fields,
)
from dasf_jupyter.protocol.body import (
    decode_body,
    encode_body,
    placeholder,
    resolve_placeholders,
)
from dasf_jupyter.protocol.envelope import encode_binary_publish
from dasf_jupyter.protocol.fragments import (
    fragment_envelope,
    raw_fragment_size,
    split_data,
    split_parts,
    split_payload,
)

HEADER = {"properties": {"messageType": "request", "requestContext": "7"}, "context": 3}


def test_binary_frame_round_trip_keeps_header_and_raw_payload():
    raw = os.urandom(1000)
    frame = encode_binary_frame(HEADER, raw)
    assert is_binary_frame(frame) and frame[0] == 0
    header, payload = decode_binary_frame(frame)
    assert header == HEADER and bytes(payload) == raw


def test_text_frames_are_not_binary_frames():
    assert not is_binary_frame('{"payload": ""}')
    assert not is_binary_frame(b'{"payload": ""}')
    assert not is_binary_frame(b"\x00\x00")  # too short to hold a header length


def test_binary_to_text_is_the_equivalent_text_frame():
    raw = os.urandom(5000)
    text = binary_to_text(encode_binary_frame(HEADER, raw))
    assert json.loads(text) == {**HEADER, "payload": base64.b64encode(raw).decode()}
    empty = binary_to_text(encode_binary_frame({}, b"x"))
    assert json.loads(empty) == {"payload": "eA=="}


def test_with_header_fields_adds_fields_and_keeps_the_payload():
    frame = with_header_fields(encode_binary_frame(HEADER, b"abc"), {"messageId": "m1"})
    header, payload = decode_binary_frame(frame)
    assert header == {**HEADER, "messageId": "m1"} and bytes(payload) == b"abc"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x00\x00", "shorter"),
        (b"\x00\x00\x00\x50{}", "exceeds the frame"),
        (b"\x00\x00\x00\x03{x}", "not valid JSON"),
        (b"\x00\x00\x00\x02[]", "JSON object"),
        (b'\x00\x00\x00\x0e{"payload":""}', "must not contain 'payload'"),
        (b"\x00\x00\x00\x04" + b"\xff\xfe{}", "not valid JSON"),
    ],
)
def test_malformed_binary_frames_are_refused_with_a_reason(frame, reason):
    with pytest.raises(ProtocolError, match=reason):
        decode_binary_frame(frame)


def test_envelope_with_data_encodes_as_binary_or_as_equivalent_text():
    raw = os.urandom(3000)
    env = Envelope("", {"messageType": "response"}, context=1, data=raw)
    binary = decode_delivery(encode_binary_publish(env))
    assert bytes(binary.data) == raw and binary.properties == env.properties
    text = decode_delivery(encode_publish(env))
    assert text.data is None and base64.b64decode(text.payload) == raw
    assert binary.as_text().payload == text.payload


def test_large_base64_payload_is_spliced_into_the_same_json():
    payload = base64.b64encode(os.urandom(30_000)).decode()
    env = Envelope(payload, {"messageType": "request", "x": 'quote " and ä'}, context="c")
    assert json.loads(encode_publish(env)) == {
        "payload": payload,
        "properties": env.properties,
        "context": "c",
    }
    odd = "a" * 5000 + '"\\'  # not base64: must still be valid JSON
    assert json.loads(encode_publish(Envelope(odd, {})))["payload"] == odd


def test_raw_fragments_turn_into_the_references_text_fragments():
    raw = os.urandom(100_000)
    size = 4000
    chunks = split_data(raw, size)
    assert raw_fragment_size(size) == 3000 and all(c.nbytes == 3000 for c in chunks[:-1])
    as_text = [base64.b64encode(c).decode() for c in chunks]
    assert as_text == split_payload(base64.b64encode(raw).decode(), size)


def test_assembler_joins_raw_fragments_and_mixed_fragments():
    raw = os.urandom(10_000)
    chunks = split_data(raw, 4000)
    assembler = FragmentAssembler()
    parts = [bytes(chunks[0]), base64.b64encode(chunks[1]).decode(), *chunks[2:]]
    results = [assembler.add("k", i, len(parts), part) for i, part in enumerate(parts)]
    assert results[:-1] == [None] * (len(parts) - 1) and results[-1] == raw
    texts = split_payload(base64.b64encode(raw).decode(), 4000)
    whole = [assembler.add("t", i, len(texts), t) for i, t in enumerate(texts)][-1]
    assert whole == base64.b64encode(raw).decode()  # text stays text


def test_binary_body_round_trip_and_placeholders():
    nonce = b"12345678"
    a, b = os.urandom(10), os.urandom(70_000)
    doc = {"x": placeholder(nonce, 0), "y": [1, {"z": placeholder(nonce, 1)}], "s": "plain"}
    body = encode_body(json.dumps(doc).encode(), [a, b], nonce)
    json_part, got_nonce, attachments = decode_body(body)
    assert got_nonce == nonce and [bytes(x) for x in attachments] == [a, b]
    value = resolve_placeholders(json.loads(bytes(json_part)), nonce, attachments)
    assert bytes(value["x"]) == a and bytes(value["y"][1]["z"]) == b and value["s"] == "plain"


def test_placeholders_of_another_nonce_are_plain_strings():
    other = placeholder(b"abcdefgh", 0)
    value = resolve_placeholders({"s": other}, b"12345678", [b"data"])
    assert value == {"s": other}


def test_placeholder_out_of_range_is_a_protocol_error():
    nonce = b"12345678"
    with pytest.raises(ProtocolError, match="unknown attachment"):
        resolve_placeholders([placeholder(nonce, 5)], nonce, [b"only one"])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: b"XXXX" + body[4:],  # magic
        lambda body: body[:-1],  # lengths no longer add up
        lambda body: body + b"extra",
        lambda body: body[:10],  # cut inside the fixed header
        lambda body: body[:12] + b"\xff\xff\xff\xff" + body[16:],  # absurd attachment count
    ],
)
def test_malformed_bodies_are_protocol_errors(mutate):
    body = encode_body(b'{"a":1}', [b"abc"], b"12345678")
    with pytest.raises(ProtocolError):
        decode_body(mutate(body))


@pytest.mark.parametrize("sizes", [[10], [2999, 1], [3000, 3000], [1, 7000, 2, 5000], [0, 9001]])
def test_split_parts_cuts_consecutive_buffers_like_one_payload(sizes):
    parts = [os.urandom(n) for n in sizes]
    whole = b"".join(parts)
    cut = split_parts(parts, 4000)
    assert [bytes(c) for c in cut] == [bytes(c) for c in split_data(whole, 4000)]
    assert sum(isinstance(c, bytes) for c in cut) <= len(parts)  # copies only at boundaries


def test_deeply_nested_json_in_a_body_is_a_protocol_error_not_a_crash():
    nonce = b"12345678"
    deep: object = placeholder(nonce, 0)
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ProtocolError, match="nested too deeply"):
        resolve_placeholders(deep, nonce, [b"x"])


@pytest.mark.parametrize("order", ["in-order", "reversed", "shuffled", "last-first"])
def test_raw_fragments_are_assembled_in_place_in_any_order(order):
    raw = os.urandom(10_500)
    chunks = [bytes(c) for c in split_data(raw, 4000)]  # 3000-byte fragments, 1500 last
    indices = list(range(len(chunks)))
    if order == "reversed":
        indices.reverse()
    elif order == "shuffled":
        indices = [1, 3, 0, 2]
    elif order == "last-first":
        indices = [3, 0, 1, 2]
    assembler = FragmentAssembler()
    results = [assembler.add("k", i, len(chunks), chunks[i]) for i in indices]
    assert results[:-1] == [None] * (len(chunks) - 1)
    assert bytes(results[-1]) == raw
    assert assembler.pending_size == 0 and len(assembler) == 0


def test_fragments_of_unexpected_sizes_are_still_joined_correctly():
    parts = [os.urandom(3000), os.urandom(2000), os.urandom(3000), os.urandom(10)]
    assembler = FragmentAssembler()
    results = [assembler.add("k", i, len(parts), p) for i, p in enumerate(parts)]
    assert bytes(results[-1]) == b"".join(parts)
    assert assembler.pending_size == 0


def test_raw_fragments_in_order_are_appended_and_not_kept():
    raw = os.urandom(9000)
    chunks = [bytes(c) for c in split_data(raw, 4000)]
    assembler = FragmentAssembler()
    assembler.add("k", 1, 3, chunks[1])  # early: kept until fragment 0 arrives
    partial = assembler._partials["k"]
    assert partial.buffer is None and partial.chunks[1] is not None
    assembler.add("k", 0, 3, chunks[0])
    assert bytes(partial.buffer) == raw[:6000]  # 0 appended, then the waiting 1
    assert all(c is None for c in partial.chunks.values())
    whole = assembler.add("k", 2, 3, chunks[2])
    assert isinstance(whole, bytearray) and whole == raw
    assert assembler.pending_size == 0


def test_fragment_envelope_keeps_a_payload_of_at_most_the_fragment_size_whole():
    text = Envelope(base64.b64encode(b"x" * 300).decode(), {"a": 1}, context="c")
    assert fragment_envelope(text, 300) == [text]  # 400 characters, 300 bytes: the reference
    raw = Envelope("", {"a": 1}, context="c", data=b"y" * 300)
    assert fragment_envelope(raw, 300) == [raw]
    (joined,) = fragment_envelope(raw, 300, [b"y" * 100, memoryview(b"z" * 200)])
    assert joined.data == b"y" * 100 + b"z" * 200 and joined.properties == {"a": 1}


@given(size=st.integers(1, 3000).map(lambda n: 4 * n), length=st.integers(0, 40_000))
@settings(max_examples=60, deadline=None)
def test_fragment_envelope_cuts_raw_and_text_into_the_same_reference_fragments(size, length):
    raw = os.urandom(length)
    text = base64.b64encode(raw).decode()
    props = {"messageType": "response", "requestContext": "7"}
    as_text = fragment_envelope(Envelope(text, props, "7"), size)
    as_raw = fragment_envelope(Envelope("", props, "7", data=raw), size)
    halves = [raw[: length // 3], raw[length // 3 :]]
    as_parts = fragment_envelope(Envelope("", props, "7"), size, halves)
    expected = [text] if length <= size else split_payload(text, size)
    assert [e.payload for e in as_text] == expected
    assert [e.as_text().payload for e in as_raw] == expected
    assert [e.as_text().payload for e in as_parts] == expected
    if len(expected) == 1:
        assert as_raw[0].properties == props
        return
    assembler = FragmentAssembler()
    for i, message in enumerate(as_parts):
        assert message.context == "7" and len(message.as_text().payload) <= size
        assert message.properties == {**props, "fragment": i, "num_fragments": len(expected)}
        whole = assembler.add("k", i, len(expected), message.data)
    assert whole == raw


def test_fragment_envelope_refuses_a_size_that_is_not_positive():
    with pytest.raises(ValueError, match="positive"):
        fragment_envelope(Envelope("QUJD", {}), 0)
