"""A bounded worker pool: requests run in threads, overflow is refused at once."""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

#: one queued job: its slot, what to run, what to run instead if the pool shuts down first
_Job = tuple["_Slot", Callable[[], None], Callable[[], None] | None]


class WorkerPool:
    """Runs jobs on ``max_workers`` threads with at most ``queue_size`` jobs in flight.

    ``queue_size`` counts running *and* waiting jobs, like the reference's semaphore;
    ``None`` means unbounded. :meth:`try_submit` never blocks, so the receive loop that
    feeds the pool stays responsive. A job goes to an idle thread through a plain queue (no
    future per job: ``ThreadPoolExecutor.submit`` cost a third of a small call's backend
    CPU); a thread is started when none is idle, up to ``max_workers``.
    """

    def __init__(self, max_workers: int = 4, queue_size: int | None = None) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if queue_size is not None and queue_size < 1:
            raise ValueError("queue_size must be at least 1 (or None for unbounded)")
        self.max_workers = max_workers
        self.queue_size = queue_size
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        #: idle threads minus queued jobs (negative: jobs wait for a thread)
        self._idle = 0
        self._lock = threading.Lock()
        self._all_done = threading.Condition(self._lock)
        self._in_flight = 0
        self._closed = False
        _live_pools.add(self)

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
            self._idle -= 1
            start = self._idle < 0 and len(self._threads) < self.max_workers
            if start:
                self._idle += 1  # the new thread takes this job
                thread = threading.Thread(
                    target=self._work, name=f"dasf-worker_{len(self._threads)}"
                )
                self._threads.append(thread)
            # under the lock: a shutdown cancels it or finds it taken, never misses it
            self._jobs.put((_Slot(self), job, on_cancel))
        if start:
            thread.start()
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

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            slot, job, _ = item
            _current.slot = slot
            try:
                _run_logged(job)
            finally:
                _current.slot = None
                slot.release()
                with self._lock:
                    self._idle += 1

    def _finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._all_done.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is in flight; ``False`` if jobs remain after ``timeout`` s."""
        with self._lock:
            return self._all_done.wait_for(lambda: self._in_flight == 0, timeout)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Refuse new jobs, drop queued ones, wait up to ``timeout`` s for running ones.

        Returns ``True`` when every job finished. Threads still busy after the timeout are
        left to finish on their own (Python cannot kill a thread).
        """
        with self._lock:
            self._closed = True
        self._cancel_queued()
        self._end_threads()
        return self.wait_idle(timeout)

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                slot, _, on_cancel = item
                try:
                    if on_cancel is not None:
                        _run_logged(on_cancel)
                finally:
                    slot.release()

    def _end_threads(self) -> None:
        """Let each thread end once the jobs queued before now have run."""
        with self._lock:
            threads = len(self._threads)
        for _ in range(threads):
            self._jobs.put(None)


_current = threading.local()
#: pools whose idle threads must end at interpreter exit (their threads are not daemons)
_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def _stop_live_pools() -> None:
    for pool in list(_live_pools):
        pool._end_threads()


# like concurrent.futures: before non-daemon threads are joined, so the jobs running or
# queued at exit finish, and idle threads do not keep the process alive
threading._register_atexit(_stop_live_pools)  # type: ignore[attr-defined]


class _Slot:
    """One accepted job's place in the pool, released exactly once."""

    __slots__ = ("_lock", "_pool", "_released")

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


def _run_logged(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:  # a job must report its own errors; never lose the worker
        log.exception("unhandled error in a backend worker")
