"""LimitedWarnings: first line at once, then counts; nothing lost, nothing unbounded."""

from __future__ import annotations

import logging
import time

from dasf_jupyter.log_limits import LimitedWarnings


def test_first_warning_then_a_summary_with_the_count(caplog):
    warnings = LimitedWarnings(logging.getLogger("test.limits"), interval=0.2)
    with caplog.at_level(logging.WARNING, "test.limits"):
        for n in range(100):
            warnings.warn("bad things", "bad thing %d", n)
        warnings.warn("other things", "other thing")
        warnings.flush()  # too early: nothing more yet
        assert [r.getMessage() for r in caplog.records] == ["bad thing 0", "other thing"]
        assert warnings.suppressed("bad things") == 99
        time.sleep(0.25)  # the time under test: past the 0.2 s interval
        warnings.flush()
    last = caplog.records[-1].getMessage()
    assert len(caplog.records) == 3
    assert last.startswith("99 more bad things suppressed") and "(100 in all)" in last
    assert warnings.suppressed("bad things") == 0


def test_the_next_warning_after_the_interval_carries_the_count(caplog):
    warnings = LimitedWarnings(logging.getLogger("test.limits"), interval=0.1)
    with caplog.at_level(logging.WARNING, "test.limits"):
        for _ in range(5):
            warnings.warn("x", "x happened")
        time.sleep(0.15)  # the time under test: past the 0.1 s interval
        warnings.warn("x", "x happened")
    assert caplog.records[-1].getMessage() == "x happened (and 4 more x suppressed)"


def test_reasons_are_bounded(caplog):
    warnings = LimitedWarnings(logging.getLogger("test.limits"), interval=60)
    with caplog.at_level(logging.WARNING, "test.limits"):
        for n in range(LimitedWarnings.MAX_REASONS * 3):
            warnings.warn(f"reason {n}", "r")
            warnings.warn(f"reason {n}", "r")
    assert len(warnings._reasons) <= LimitedWarnings.MAX_REASONS
    # each forgotten reason's suppressed count was reported before it was forgotten
    assert any("1 more reason 0 suppressed" in r.getMessage() for r in caplog.records)
