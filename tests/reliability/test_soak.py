"""Short soaks (CI forms of benchmarks/soak.py): every call counted across a replica crash."""

from __future__ import annotations

import pytest

from benchmarks.soak import MB, SoakReport, run_soak
from tests.brokerfixtures import scaled_out_brokers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: errors that say what happened: backend gone, not served during the restart, or too slow
CLEAR_ERRORS = {
    "error RemoteError BackendDisconnected",
    "error ModuleNotServed",
    "error ConnectionLost",
    "error CallTimeout",
}


def check_delivery(report: SoakReport) -> None:
    print(report.summary())
    assert report.unaccounted == 0  # every call ended, none hung: none lost silently
    assert report.problems() == []  # none run twice, no result without its one execution
    assert report.outcomes["ok"] >= report.calls // 2, report.outcomes  # it did serve
    assert {o for o in report.outcomes if o != "ok"} <= CLEAR_ERRORS, report.outcomes


def test_soak_loses_no_call_silently_runs_none_twice_and_returns_memory(start_broker, tmp_path):
    broker = start_broker()
    report = run_soak(broker, tmp_path, clients=4, calls=60, sizes=(10, 10_000, 200_000, MB))
    check_delivery(report)
    assert report.rss_after <= report.rss_baseline + 64 * MB, report.summary()


@pytest.mark.postgres
@pytest.mark.redis
def test_soak_with_two_replicas_on_a_broker_pair_runs_each_call_at_most_once(tmp_path):
    """2 brokers (Redis+PostgreSQL), a replica on each, clients on both, one replica killed."""
    with scaled_out_brokers(tmp_path, "soak") as pair:
        report = run_soak(
            list(pair), tmp_path, clients=4, calls=60, sizes=(10, 10_000, 200_000), replicas=2
        )
    check_delivery(report)
    assert all(report.per_replica), report.summary()  # both replicas took calls
    # at most once: the executions are the ok calls plus some of the failed ones
    assert report.outcomes["ok"] <= sum(report.executions.values()) <= report.calls
    assert report.rss_after <= report.rss_baseline + 64 * MB, report.summary()
