"""The broker splices messageId/publishTime into the publisher's text instead of re-encoding."""

from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from dasf_jupyter.broker import frames
from dasf_jupyter.protocol.binary import decode_binary_frame, encode_binary_frame

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=10), values, max_size=5), st.booleans())
def test_spliced_delivery_equals_the_reencoded_one(obj, spaced):
    text = json.dumps(obj, indent=1 if spaced else None)
    try:
        frame = frames.parse_publish(text)
    except Exception:
        return
    spliced = frames.delivery_text_of(text, frame, "m-1", "2024-01-01T00:00:00+00:00")
    assert json.loads(spliced) == json.loads(
        frames.delivery_text(frame, "m-1", "2024-01-01T00:00:00+00:00")
    )


def test_a_given_message_id_is_kept_once():
    text = '{"payload": "", "messageId": "mine", "properties": {}}'
    out = frames.delivery_text_of(text, frames.parse_publish(text), "mine", "t")
    assert out.count("messageId") == 1 and json.loads(out)["messageId"] == "mine"


def test_large_payload_is_not_reencoded_but_stays_valid():
    text = json.dumps({"payload": "QUJD" * 1000, "properties": {"messageType": "request"}})
    out = frames.delivery_text_of(text.encode(), frames.parse_publish(text), "m", "t")
    assert out.endswith(text[1:]) and json.loads(out)["publishTime"] == "t"


@given(
    st.dictionaries(st.text(max_size=10).filter(lambda k: k != "payload"), values, max_size=5),
    st.booleans(),
    st.binary(max_size=20),
)
def test_spliced_binary_delivery_equals_the_reencoded_one(header, spaced, payload):
    head = json.dumps(header, indent=1 if spaced else None).encode()
    head = b" " + head + b"\n" if spaced else head
    data = len(head).to_bytes(4, "big") + head + payload
    parsed = frames.parse_binary_publish(data)
    spliced = frames.binary_delivery_of(data, "m-1", "t-1", parsed)
    reencoded = frames.binary_delivery_of(data, "m-1", "t-1")  # header decoded and encoded
    assert decode_binary_frame(spliced)[0] == decode_binary_frame(reencoded)[0]
    assert bytes(decode_binary_frame(spliced)[1]) == payload


def test_a_binary_header_with_its_own_message_id_keeps_one():
    data = encode_binary_frame({"messageId": "mine", "context": 1}, b"p")
    parsed = frames.parse_binary_publish(data)
    header, _ = decode_binary_frame(frames.binary_delivery_of(data, "mine", "t", parsed))
    assert header == {"messageId": "mine", "context": 1, "publishTime": "t"}


def test_message_ids_are_distinct_version_4_uuids():
    ids = [frames.new_message_id() for _ in range(3 * 256 + 7)]  # across pool refills
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)
