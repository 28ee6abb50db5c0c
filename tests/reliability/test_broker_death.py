"""Issue 14 item 3: one broker of a Redis+PostgreSQL pair dies (``kill -9``).

The backend is connected to broker A, the caller to broker B. A surviving broker must tell
callers ``BackendDisconnected`` within seconds (A's heartbeat lapses), must not accept work
for A's consumers once their broker is dead, and no request may run after its caller gave up
(the backend reconnects later, and executions are counted).
"""

from __future__ import annotations

import secrets
import time

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import CallTimeout, ModuleNotServed, RemoteError
from tests.brokerfixtures import scaled_out_brokers
from tests.reliability.processes import BackendProcess, executions
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(240)]

#: the issue's bound for telling a caller that the backend's broker died
BOUND = 10.0


def _new_topic() -> str:
    return f"death-{secrets.token_hex(4)}"


def _wait_for_execution(count_file, tag: str, timeout: float = 30.0) -> None:
    eventually(lambda: executions(count_file)[tag], timeout=timeout, message=f"{tag!r} to start")


def test_killing_the_backends_broker_mid_call_fails_the_caller_on_the_other_within_10_s(
    tmp_path,
):
    topic, count_file = _new_topic(), tmp_path / "count.txt"
    with scaled_out_brokers(tmp_path, "death1") as (a, b):
        backend = BackendProcess(a.url, topic, count_file).start()
        try:
            with connect(b.url, timeout=120) as conn:
                future = conn.submit(topic, {"func_name": "slow", "tag": "doomed", "seconds": 60})
                _wait_for_execution(count_file, "doomed")
                killed = time.monotonic()
                a.kill()
                with pytest.raises(RemoteError) as info:
                    future.result(timeout=BOUND + 20)
                elapsed = time.monotonic() - killed
        finally:
            backend.kill()
    print(f"caller on B told BackendDisconnected {elapsed:.1f} s after kill -9 of A")
    assert info.value.exc_type == "BackendDisconnected"
    assert "stopped responding" in str(info.value)
    assert elapsed < BOUND, f"the caller learnt of the broker's death after {elapsed:.1f} s"


def test_a_request_made_right_after_the_broker_died_fails_fast_and_never_runs_later(tmp_path):
    topic, count_file = _new_topic(), tmp_path / "count.txt"
    subscription = f"replicas-{secrets.token_hex(4)}"
    with scaled_out_brokers(tmp_path, "death2") as (a, b):
        first = BackendProcess(a.url, topic, count_file, subscription=subscription).start()
        try:
            with connect(b.url, timeout=60) as conn:
                assert conn.call(topic, {"func_name": "echo", "tag": "before", "data": "x"}) == "x"
                a.kill()
                first.kill()
                # within A's registry time (30 s): today the request is acknowledged, queued
                # for A's consumer and runs whenever a module takes that subscription again
                made = time.monotonic()
                with pytest.raises((RemoteError, ModuleNotServed)) as info:
                    conn.call(topic, {"func_name": "echo", "tag": "late", "data": "y"})
                elapsed = time.monotonic() - made
                # a replica on the same subscription comes back (on B)
                with BackendProcess(
                    b.url, topic, count_file, subscription=subscription, log_name="second.log"
                ):
                    # FIFO: a request still queued would run before this one
                    assert (
                        conn.call(topic, {"func_name": "echo", "tag": "after", "data": ""}) == ""
                    )
        finally:
            first.kill()
    print(f"a call made right after the kill failed after {elapsed:.1f} s: {info.value!r}")
    if isinstance(info.value, RemoteError):
        assert info.value.exc_type == "BackendDisconnected"
        assert "never reached the module" in str(info.value)
    assert elapsed < BOUND, f"the call failed only after {elapsed:.1f} s"
    assert executions(count_file) == {"before": 1, "after": 1}


def test_no_request_runs_after_its_callers_deadline_when_a_replica_reconnects(tmp_path):
    topic, count_file = _new_topic(), tmp_path / "count.txt"
    subscription = f"replicas-{secrets.token_hex(4)}"
    with scaled_out_brokers(tmp_path, "death3") as (a, b):
        first = BackendProcess(a.url, topic, count_file, subscription=subscription).start()
        try:
            with connect(b.url, timeout=60) as conn:
                conn.api_info(topic)
                a.kill()
                first.kill()
                with pytest.raises((CallTimeout, RemoteError)):
                    conn.call(topic, {"func_name": "echo", "tag": "late", "data": ""}, timeout=1.5)
                # the caller gave up; a replica of the same subscription connects at once
                with BackendProcess(
                    b.url, topic, count_file, subscription=subscription, log_name="second.log"
                ):
                    assert (
                        conn.call(topic, {"func_name": "echo", "tag": "after", "data": ""}) == ""
                    )
        finally:
            first.kill()
    assert executions(count_file) == {"after": 1}
