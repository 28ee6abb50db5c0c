"""The broker splices messageId/publishTime into the publisher's text instead of re-encoding."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dasf_jupyter.broker import frames

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
