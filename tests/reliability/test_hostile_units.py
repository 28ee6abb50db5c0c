"""Property-based tests of the parsers hostile input reaches first (no sockets).

Complements tests/protocol (decoders, fragment order) and tests/backend/test_dispatch.py
(routing): here arbitrary *bytes* reach the broker's frame parser, arbitrary operation
sequences reach the fragment assembler, and the broker's in-flight bookkeeping stays bounded.
"""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dasf_jupyter.broker import frames
from dasf_jupyter.broker.inflight import InFlightRequests, mark_delivery, route_of
from dasf_jupyter.errors import ProtocolError
from dasf_jupyter.protocol import FragmentAssembler, decode_delivery, fragment_index

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRAME_KEYS = st.sampled_from(["payload", "properties", "context", "messageId"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_the_broker_parses_any_bytes_into_a_frame_or_a_clear_refusal(data):
    try:
        frame = frames.parse_publish(data)
    except ProtocolError as exc:
        assert str(exc).startswith("invalid message")
        frames.ack_text(str(exc), None, frames.context_of(data), None)  # the refusal encodes
        return
    assert isinstance(frame, dict)
    frames.expects_reply(frame)
    frames.no_hold(frame)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["payload", "properties", "context", "messageId"]), json_values
    )
)
def test_any_parsed_frame_round_trips_through_the_broker_to_a_client(obj):
    text = json.dumps(obj)
    try:
        frame = frames.parse_publish(text)
    except ProtocolError:
        return
    delivery = mark_delivery(frames.delivery_text(frame, "id-1", frames.now_iso()), frame)
    route_of(str(delivery))  # the untagged (Redis) path parses it again without raising
    with contextlib.suppress(ProtocolError):  # e.g. a non-string payload: refused clearly
        decode_delivery(delivery)


fragment_ops = st.lists(
    st.tuples(
        st.integers(0, 5),  # key
        st.integers(-2, 12),  # index
        st.integers(-1, 12) | st.just(10**9),  # total
        st.text(alphabet="ab", max_size=40),
    ),
    max_size=80,
)


@FAST
@given(fragment_ops)
def test_any_fragment_sequence_gives_payloads_or_clear_errors_within_bounds(ops):
    assembler = FragmentAssembler(max_payload=100, max_fragments=10, max_pending=3, max_total=300)
    largest_cost = 40 + FragmentAssembler.FRAGMENT_OVERHEAD
    for key, index, total, chunk in ops:
        try:
            found = fragment_index({"fragment": index, "num_fragments": total})
            if found is None:
                continue
            payload = assembler.add(key, *found, chunk)
        except ProtocolError:
            continue
        assert payload is None or len(payload) <= 100
        assert len(assembler) <= 3
        assert assembler.pending_size <= 300 + largest_cost


def test_many_tiny_fragments_are_charged_for_their_bookkeeping():
    assembler = FragmentAssembler(max_payload=10**6, max_fragments=10**5, max_total=10**5)
    for key in range(50):
        for index in range(100):
            assembler.add(key, index, 10**5, "")
    # 5000 empty fragments cost 5000 * overhead: the oldest partial payloads were dropped
    assert assembler.pending_size <= 10**5 + FragmentAssembler.FRAGMENT_OVERHEAD
    assert len(assembler) < 50


def test_in_flight_requests_per_consumer_are_bounded_and_answered_ones_forgotten():
    inflight = InFlightRequests(max_per_consumer=100)
    for i in range(1000):
        inflight.delivered(1, "topic", ("resp", str(i)))
    assert len(inflight) == 100
    inflight.answered(("resp", "999"))
    left = inflight.take(1)
    assert len(left) == 99 and ("topic", ("resp", "999")) not in left
    assert len(inflight) == 0


def test_nesting_bombs_and_huge_numbers_are_protocol_errors():
    from dasf_jupyter.protocol import decode_json_payload, encode_text_payload

    bomb = "[" * 200_000 + "]" * 200_000
    for text in (bomb, "1" * 100_000):
        with contextlib.suppress(ProtocolError):
            decode_json_payload(encode_text_payload(text))
        for frame in (bomb, '{"payload": ' + "1" * 100_000 + "}"):
            with contextlib.suppress(ProtocolError):
                decode_delivery(frame)
