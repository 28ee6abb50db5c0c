"""Short soak (CI form of benchmarks/soak.py): every call counted across a backend crash."""

from __future__ import annotations

import pytest

from benchmarks.soak import MB, run_soak

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_soak_loses_no_call_silently_runs_none_twice_and_returns_memory(start_broker, tmp_path):
    broker = start_broker()
    report = run_soak(broker, tmp_path, clients=4, calls=60, sizes=(10, 10_000, 200_000, MB))
    print(report.summary())
    assert sum(report.outcomes.values()) == report.calls  # every call ended, none hung
    assert not [o for o in report.outcomes if o.startswith(("CRASH", "WRONG"))], report.outcomes
    assert report.run_twice == []  # at most once
    assert report.ok_not_run == []  # a returned value means exactly one execution
    assert report.outcomes["ok"] >= report.calls // 2, report.outcomes  # it did serve
    # only errors that say what happened: backend gone, not served during the restart
    assert {o for o in report.outcomes if o != "ok"} <= {
        "error RemoteError",
        "error ModuleNotServed",
        "error ConnectionLost",
        "error CallTimeout",
    }
    assert report.rss_after <= report.rss_baseline + 64 * MB, report.summary()
