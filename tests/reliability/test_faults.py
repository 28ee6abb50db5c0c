"""Faults with real processes: broker and backend crashes (SIGKILL), restarts, clean stops."""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.client import connect
from dasf_jupyter.errors import ConnectionLost, ModuleNotServed, RemoteError
from tests.reliability.processes import BackendProcess, executions, wait_until_served
from tests.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def new_topic() -> str:
    return f"rel-{secrets.token_hex(4)}"


def wait_for_execution(count_file, tag: str, timeout: float = 30.0) -> None:
    eventually(lambda: executions(count_file)[tag], timeout=timeout, message=f"{tag!r} to start")


def test_broker_crash_fails_calls_in_flight_and_both_sides_reconnect(start_broker, tmp_path):
    broker = start_broker()
    topic, count_file = new_topic(), tmp_path / "count.txt"
    with (
        BackendProcess(broker.url, topic, count_file) as backend,
        connect(broker.url, timeout=60) as conn,
    ):
        pid = backend.process.pid
        assert conn.call(topic, {"func_name": "echo", "tag": "before", "data": "x"}) == "x"
        future = conn.submit(topic, {"func_name": "slow", "tag": "inflight", "seconds": 4})
        wait_for_execution(count_file, "inflight")
        broker.kill()
        with pytest.raises(ConnectionLost):
            future.result(timeout=60)
        broker.stop()
        broker.start()  # same port, same data
        # nobody restarts the backend or reopens the connection: both reconnect by themselves
        wait_until_served(broker.url, topic, timeout=60)
        assert conn.call(topic, {"func_name": "echo", "tag": "after", "data": "y"}) == "y"
        assert backend.process.pid == pid and backend.process.poll() is None
    counts = executions(count_file)
    assert counts == {"before": 1, "inflight": 1, "after": 1}  # nothing ran twice


def test_backend_crash_mid_call_fails_the_caller_long_before_its_timeout(start_broker, tmp_path):
    broker = start_broker()
    topic, count_file = new_topic(), tmp_path / "count.txt"
    backend = BackendProcess(broker.url, topic, count_file).start()
    try:
        with connect(broker.url, timeout=600) as conn:
            future = conn.submit(topic, {"func_name": "slow", "tag": "doomed", "seconds": 60})
            wait_for_execution(count_file, "doomed")
            backend.kill()
            # the broker answers the unanswered request when the module's socket drops
            with pytest.raises(RemoteError, match="disconnected before answering") as info:
                future.result(timeout=30)
            assert info.value.exc_type == "BackendDisconnected"
            backend.start()  # a new process on the same topic
            assert conn.call(topic, {"func_name": "echo", "tag": "next", "data": "ok"}) == "ok"
    finally:
        backend.stop()
    assert executions(count_file) == {"doomed": 1, "next": 1}  # the lost call was not re-run


slow_add_started = threading.Event()


def slow_add(a: int, b: int, seconds: float = 2.0) -> int:
    """Add after a pause."""
    slow_add_started.set()
    time.sleep(seconds)  # the behaviour under test: a call still running at stop()
    return a + b


def test_a_cleanly_stopping_backend_still_answers_its_running_calls(broker_url):
    topic = new_topic()
    handle = BackendModule(topic, [slow_add]).serve_in_background(broker_url)
    try:
        with connect(broker_url, timeout=60) as conn:
            remote = conn.module(topic)
            slow_add_started.clear()
            future = remote.slow_add.submit(2, 3, seconds=2.0)
            assert slow_add_started.wait(30), "the call did not start"
            handle.stop(timeout=20)  # closes the consumer socket first, then waits
            assert future.result(timeout=60) == 5
    finally:
        handle.stop()


def test_a_call_refused_for_want_of_a_module_never_runs_later(broker_url, tmp_path):
    topic, count_file = new_topic(), tmp_path / "count.txt"
    with connect(broker_url, timeout=30) as conn:
        with pytest.raises(ModuleNotServed):
            conn.call(topic, {"func_name": "echo", "tag": "early", "data": ""})
        # a module that appears now (within the broker's hold time) must not get that request
        with BackendProcess(broker_url, topic, count_file):
            assert conn.call(topic, {"func_name": "echo", "tag": "late", "data": "z"}) == "z"
            time.sleep(1.0)  # nothing to wait for: a late "early" would have run by now
    assert executions(count_file) == {"late": 1}
