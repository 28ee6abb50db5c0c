"""Issue 14 item 3: a request expires in the broker no later than its caller's deadline.

A real module is paused (SIGSTOP) while a large request is being delivered to it, so the
broker's delivery to it stalls and a second request waits in the broker's queue. Its caller
times out; then the module resumes. The waiting request must not run: the caller was told
``CallTimeout``, a late execution would be unseen (executions are counted).
"""

from __future__ import annotations

import secrets
import signal

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import CallTimeout
from tests.reliability.processes import BackendProcess, executions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: far more than the socket buffers between broker and module hold
FILLER = "x" * 40_000_000


def test_a_request_whose_caller_timed_out_never_runs_when_the_module_resumes(
    start_broker, tmp_path
):
    broker = start_broker()
    topic, count_file = f"ttl-{secrets.token_hex(4)}", tmp_path / "count.txt"
    with (
        BackendProcess(broker.url, topic, count_file, workers=2) as backend,
        connect(broker.url, timeout=120) as conn,
    ):
        conn.api_info(topic)  # so the filler is sent in fragments
        backend.process.send_signal(signal.SIGSTOP)
        try:
            filler = conn.submit(topic, {"func_name": "size", "tag": "filler", "data": FILLER})
            with pytest.raises(CallTimeout):
                conn.call(topic, {"func_name": "echo", "tag": "late", "data": ""}, timeout=2)
        finally:
            backend.process.send_signal(signal.SIGCONT)
        assert filler.result(timeout=120) == len(FILLER)
        # FIFO: had the late request been delivered, it would have run before this one
        assert conn.call(topic, {"func_name": "echo", "tag": "after", "data": ""}) == ""
    assert executions(count_file) == {"filler": 1, "after": 1}


def test_a_request_waiting_for_a_busy_modules_worker_never_starts_after_its_caller_gave_up(
    start_broker, tmp_path
):
    broker = start_broker()
    topic, count_file = f"ttl-{secrets.token_hex(4)}", tmp_path / "count.txt"
    with (
        BackendProcess(broker.url, topic, count_file, workers=1) as backend,
        connect(broker.url, timeout=60) as conn,
    ):
        busy = conn.submit(topic, {"func_name": "slow", "tag": "busy", "seconds": 4})
        # delivered at once, it waits in the module for its only worker
        with pytest.raises(CallTimeout):
            conn.call(topic, {"func_name": "echo", "tag": "late", "data": ""}, timeout=1.5)
        assert busy.result(timeout=60) == "busy"
        assert conn.call(topic, {"func_name": "echo", "tag": "after", "data": ""}) == ""
    assert executions(count_file) == {"busy": 1, "after": 1}
    assert "its caller has given up" in backend.log_path.read_text()
