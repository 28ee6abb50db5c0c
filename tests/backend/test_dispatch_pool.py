"""WorkerPool: bounded in-flight jobs, overflow refused at once, shutdown."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from dasf_jupyter.backend.pool import WorkerPool


def test_jobs_beyond_queue_size_are_refused_without_blocking():
    pool = WorkerPool(max_workers=1, queue_size=2)
    release = threading.Event()
    try:
        assert pool.try_submit(lambda: release.wait(10))
        assert pool.try_submit(lambda: release.wait(10))
        assert not pool.try_submit(lambda: None)
        assert pool.in_flight == 2
    finally:
        release.set()
        assert pool.shutdown(10)
    assert pool.in_flight == 0


def test_two_workers_run_jobs_concurrently():
    pool = WorkerPool(max_workers=2)
    barrier = threading.Barrier(2, timeout=10)
    results: list[int] = []
    try:
        for n in range(2):
            pool.try_submit(lambda n=n: (barrier.wait(), results.append(n)))
        assert pool.wait_idle(10)
    finally:
        pool.shutdown(10)
    assert sorted(results) == [0, 1]  # a BrokenBarrierError would leave this empty


def test_shutdown_cancels_queued_jobs_and_calls_on_cancel():
    pool = WorkerPool(max_workers=1)
    release = threading.Event()
    cancelled: list[str] = []
    ran: list[str] = []
    pool.try_submit(lambda: release.wait(10))
    pool.try_submit(lambda: ran.append("queued"), on_cancel=lambda: cancelled.append("queued"))
    threading.Timer(0.2, release.set).start()
    assert pool.shutdown(10)
    assert cancelled == ["queued"] and ran == []
    assert not pool.try_submit(lambda: None)


def test_a_failing_job_does_not_kill_the_pool():
    pool = WorkerPool(max_workers=1)
    done = threading.Event()
    try:
        pool.try_submit(lambda: 1 / 0)
        pool.try_submit(done.set)
        assert done.wait(10)
    finally:
        pool.shutdown(10)


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError):
        WorkerPool(max_workers=0)
    with pytest.raises(ValueError):
        WorkerPool(queue_size=0)


def test_a_job_that_released_its_slot_lets_the_next_one_in_while_it_finishes():
    pool = WorkerPool(max_workers=2, queue_size=1)
    released = threading.Event()
    finish = threading.Event()

    def first() -> None:
        WorkerPool.release_slot()  # e.g. computed, now only sending the reply
        released.set()
        finish.wait(10)

    try:
        assert pool.try_submit(first)
        assert released.wait(10)
        assert pool.try_submit(lambda: None)
        finish.set()
        assert pool.wait_idle(10) and pool.in_flight == 0
    finally:
        finish.set()
        pool.shutdown(10)


def test_no_more_than_max_workers_jobs_run_at_once():
    pool = WorkerPool(max_workers=3)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    release = threading.Event()
    threads: set[int] = set()

    def job() -> None:
        with lock:
            threads.add(threading.get_ident())
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1

    try:
        for _ in range(10):
            assert pool.try_submit(job)
        deadline = time.monotonic() + 10
        while peak[0] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling with a deadline, not synchronising on a sleep
        assert peak[0] == 3
        release.set()
        assert pool.wait_idle(10)
        assert peak[0] == 3 and len(threads) == 3
    finally:
        release.set()
        pool.shutdown(10)


def test_a_process_exits_without_shutdown_after_its_jobs_finish():
    script = (
        "import threading, time\n"
        "from dasf_jupyter.backend.pool import WorkerPool\n"
        "pool = WorkerPool(max_workers=2)\n"
        "pool.try_submit(lambda: (time.sleep(0.2), print('ran', flush=True)))\n"
        "pool.try_submit(lambda: print('idle thread made', flush=True))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "ran" in done.stdout  # the running job finished before the process ended
