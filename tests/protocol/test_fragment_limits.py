"""Per-sender and total bounds of incomplete fragment sets (units; live: tests/reliability)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.backend.config import module_settings
from dasf_jupyter.peer_config import client_settings
from dasf_jupyter.protocol import FragmentAssembler
from dasf_jupyter.protocol.fragment_limits import CLIENT_LIMITS, MODULE_LIMITS, FragmentLimits
from dasf_jupyter.settings_table import SettingError

OVERHEAD = FragmentAssembler.FRAGMENT_OVERHEAD


def sender_of(key):
    return key[0]


def test_a_sender_over_its_bound_loses_its_oldest_set_and_is_told_why():
    # each fragment costs its size plus OVERHEAD (128): two sets fit, the third does not
    assembler = FragmentAssembler(max_payload=1000, max_per_sender=500, sender=sender_of)
    assembler.add(("a", 1), 0, 3, "x" * 100)
    assembler.add(("b", 1), 0, 3, "x" * 100)  # another sender: not affected
    assembler.add(("a", 2), 0, 3, "x" * 100)
    assert assembler.take_dropped() == []
    assembler.add(("a", 3), 0, 3, "x" * 100)  # a: 3 * 228 > 500
    dropped = assembler.take_dropped()
    assert [key for key, _ in dropped] == [("a", 1)]
    assert "sender's incomplete fragmented messages exceeded" in dropped[0][1]
    assert assembler.take_dropped() == []  # reported once
    assert len(assembler) == 3 and assembler.sender_size("b") == 100 + OVERHEAD


def test_the_newest_set_of_a_sender_may_grow_to_the_payload_limit():
    assembler = FragmentAssembler(max_payload=1000, max_per_sender=100, sender=sender_of)
    for index in range(4):
        assert assembler.add(("a", 1), index, 5, "x" * 200) is None
    assert assembler.take_dropped() == []
    assert assembler.add(("a", 1), 4, 5, "x" * 200) == "x" * 1000


def test_the_total_bound_drops_the_oldest_set_of_anyone():
    assembler = FragmentAssembler(max_payload=1000, max_total=600, sender=sender_of)
    for sender in "abc":
        assembler.add((sender, 1), 0, 2, "x" * 120)
    dropped = assembler.take_dropped()
    assert [key for key, _ in dropped] == [("a", 1)]
    assert "exceeded 600 bytes in total" in dropped[0][1]


def test_expired_sets_are_reported_with_their_reason():
    assembler = FragmentAssembler(sender=sender_of)
    assembler.add(("a", 1), 0, 2, "x")
    assert assembler.expire(-1) == [("a", 1)]
    ((key, why),) = assembler.take_dropped()
    assert key == ("a", 1) and "did not arrive within" in why


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abc"), st.integers(0, 4), st.integers(0, 3), st.integers(1, 90)
        ),
        max_size=60,
    )
)
def test_bounds_hold_for_any_sequence(ops):
    assembler = FragmentAssembler(
        max_payload=400, max_total=500, max_per_sender=200, sender=sender_of
    )
    for sender, request, index, size in ops:
        assembler.add((sender, request), index, 4, "x" * size)
        largest = 90 + OVERHEAD
        # others never exceed the bounds; the set just added may alone reach max_payload
        assert assembler.pending_size <= max(500, 400 + 4 * OVERHEAD) + largest
        for other in "abc":
            assert assembler.sender_size(other) <= max(200, 400 + 4 * OVERHEAD) + largest


def test_limits_from_the_environment_and_their_errors():
    env = {
        "DASF_MODULE_FRAGMENTS_TOTAL": "1048576",
        "DASF_MODULE_FRAGMENTS_TIMEOUT": "2.5",
        "DASF_LOG_SUMMARY_INTERVAL": "3",
    }
    limits = module_settings(env).fragment_limits()
    assert limits == FragmentLimits(
        MODULE_LIMITS.max_payload, MODULE_LIMITS.max_per_sender, 1 << 20, 2.5, log_interval=3.0
    )
    with pytest.raises(SettingError, match="DASF_MODULE_FRAGMENTS_PER_SENDER must be a whole"):
        module_settings({"DASF_MODULE_FRAGMENTS_PER_SENDER": "lots"})
    with pytest.raises(SettingError, match="must be at least 1"):
        module_settings({"DASF_MODULE_FRAGMENTS_TOTAL": "0"})
    with pytest.raises(SettingError, match="DASF_CLIENT_FRAGMENTS_TIMEOUT must be positive"):
        client_settings({"DASF_CLIENT_FRAGMENTS_TIMEOUT": "-1"})


def test_defaults_fit_a_2_gb_kernel():
    assert max(MODULE_LIMITS.max_total, MODULE_LIMITS.max_payload) <= 512 << 20
    assert MODULE_LIMITS.max_per_sender <= 128 << 20
    default_log = {"log_interval": 10.0}
    assert module_settings({}).fragment_limits() == replace(MODULE_LIMITS, **default_log)
    assert client_settings({}).fragment_limits(10).max_payload == 10
    assert client_settings({}).fragment_limits() == replace(CLIENT_LIMITS, **default_log)
    assert CLIENT_LIMITS.max_total <= 1 << 30
