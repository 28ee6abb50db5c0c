"""A bounded worker pool: requests run in threads, overflow is refused at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class WorkerPool:
    """Runs jobs on ``max_workers`` threads with at most ``queue_size`` jobs in flight.

    ``queue_size`` counts running *and* waiting jobs, like the reference's semaphore;
    ``None`` means unbounded. :meth:`try_submit` never blocks, so the receive loop that
    feeds the pool stays responsive.
    """

    def __init__(self, max_workers: int = 4, queue_size: int | None = None) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if queue_size is not None and queue_size < 1:
            raise ValueError("queue_size must be at least 1 (or None for unbounded)")
        self.max_workers = max_workers
        self.queue_size = queue_size
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="dasf-worker")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Jobs accepted and not yet finished."""
        with self._lock:
            return self._in_flight

    def try_submit(
        self, job: Callable[[], None], on_cancel: Callable[[], None] | None = None
    ) -> bool:
        """Schedule ``job``; return ``False`` (without running it) when the pool is full.

        ``on_cancel`` runs instead of ``job`` if the pool shuts down before the job starts.
        """
        with self._lock:
            if self._closed:
                return False
            if self.queue_size is not None and self._in_flight >= self.queue_size:
                return False
            self._in_flight += 1
        slot = _Slot(self)
        try:
            future = self._executor.submit(_run_in_slot, slot, job)
        except RuntimeError:  # executor shut down between the check and the submit
            slot.release()
            return False
        future.add_done_callback(lambda f: self._done(f, on_cancel, slot))
        return True

    @staticmethod
    def release_slot() -> None:
        """Free the calling job's place before the job ends (e.g. before it sends its reply).

        Without this, a caller that sends its next request as soon as the reply arrives could
        find the slot still taken and be rejected for an overflow that is not there.
        """
        slot = getattr(_current, "slot", None)
        if slot is not None:
            slot.release()

    def _done(self, future: Future, on_cancel: Callable[[], None] | None, slot: _Slot) -> None:
        try:
            if future.cancelled() and on_cancel is not None:
                _run_logged(on_cancel)
        finally:
            slot.release()

    def _finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is in flight; ``False`` if jobs remain after ``timeout`` s."""
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Refuse new jobs, drop queued ones, wait up to ``timeout`` s for running ones.

        Returns ``True`` when every job finished. Threads still busy after the timeout are
        left to finish on their own (Python cannot kill a thread).
        """
        with self._lock:
            self._closed = True
        # cancel_futures drops queued jobs; their in-flight count is released here
        self._executor.shutdown(wait=False, cancel_futures=True)
        return self.wait_idle(timeout)


_current = threading.local()


class _Slot:
    """One accepted job's place in the pool, released exactly once."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._finished()


def _run_in_slot(slot: _Slot, job: Callable[[], None]) -> None:
    _current.slot = slot
    try:
        _run_logged(job)
    finally:
        _current.slot = None


def _run_logged(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:  # a job must report its own errors; never lose the worker
        log.exception("unhandled error in a backend worker")
