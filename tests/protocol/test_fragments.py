"""Fragmentation as the reference does it, reassembly with limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dasf_jupyter.errors import PayloadTooLarge, ProtocolError
from dasf_jupyter.protocol import FragmentAssembler, fragment_index, split_payload


def test_split_matches_the_reference_example():
    # PROTOCOL.md §8: max_payload_size=8 on a 52-character base64 text gives 7 fragments
    text = "WyJoaSBBZGEgTG92ZWxhY2UiLCJoaSBBZGEgTG92ZWxhY2UiXQ=="
    chunks = split_payload(text, 8)
    assert len(chunks) == 7
    assert chunks[0] == "WyJoaSBB" and chunks[-1] == "XQ=="
    assert "".join(chunks) == text


def test_small_payload_is_one_chunk():
    assert split_payload("abc", 8) == ["abc"]
    assert split_payload("", 8) == [""]


def test_fragment_index_reads_ints_and_strings():
    assert fragment_index({}) is None
    assert fragment_index({"fragment": 2, "num_fragments": 5}) == (2, 5)
    assert fragment_index({"fragment": "0", "num_fragments": "3"}) == (0, 3)
    assert fragment_index({"fragment": 0, "num_fragments": 1}) is None


@pytest.mark.parametrize(
    "props",
    [
        {"fragment": 5, "num_fragments": 5},
        {"fragment": -1, "num_fragments": 5},
        {"fragment": "x", "num_fragments": 2},
        {"fragment": 0, "num_fragments": 0},
        {"fragment": 0},
    ],
)
def test_bad_fragment_numbers_are_protocol_errors(props):
    with pytest.raises(ProtocolError):
        fragment_index(props)


@given(st.text(alphabet="ABCdef0123+/=", max_size=300), st.integers(1, 50), st.randoms())
def test_out_of_order_and_duplicate_fragments_reassemble(text, size, rnd):
    chunks = split_payload(text, size)
    order = list(enumerate(chunks)) * 2  # every fragment twice
    rnd.shuffle(order)
    assembler = FragmentAssembler()
    results = [assembler.add("k", i, len(chunks), c) for i, c in order]
    whole = [r for r in results if r is not None]
    assert whole and all(w == text for w in whole)
    assert len(assembler) <= 1  # duplicates after completion start a new partial at most


def test_size_limit_refuses_and_forgets():
    assembler = FragmentAssembler(max_payload=10)
    assembler.add("k", 0, 3, "123456")
    with pytest.raises(PayloadTooLarge):
        assembler.add("k", 1, 3, "123456")
    assert len(assembler) == 0


def test_too_many_fragments_are_refused():
    with pytest.raises(PayloadTooLarge):
        FragmentAssembler(max_fragments=10).add("k", 0, 11, "x")


def test_changing_fragment_count_is_an_error():
    assembler = FragmentAssembler()
    assembler.add("k", 0, 3, "a")
    with pytest.raises(ProtocolError, match="count changed"):
        assembler.add("k", 1, 4, "b")


def test_pending_payloads_are_bounded_and_expire():
    assembler = FragmentAssembler(max_pending=3)
    for key in range(10):
        assembler.add(key, 0, 2, "x")
    assert len(assembler) == 3
    assert sorted(assembler.expire(-1)) == [7, 8, 9]
    assert len(assembler) == 0
