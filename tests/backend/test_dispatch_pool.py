"""WorkerPool: bounded in-flight jobs, overflow refused at once, shutdown."""

from __future__ import annotations

import threading

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
