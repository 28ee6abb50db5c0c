"""One call that a thread waits for: a session's call state plus a waiter and callbacks."""

from __future__ import annotations

import _thread
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any

from .calls import CallState

log = logging.getLogger(__name__)
remote_log = logging.getLogger("dasf_jupyter.remote")

ProgressCallback = Callable[[dict[str, Any]], Any]
LogCallback = Callable[[dict[str, Any]], Any]

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class PendingCall(CallState):
    """A request in flight; resolved once, by a response, an error or its deadline.

    The deadline is on :func:`time.monotonic`'s clock; the session moves it on each sign of
    life from the backend. A blocking caller waits with :meth:`wait` and takes
    :meth:`outcome` (one lock per call, released by whoever resolves it); a
    :class:`~concurrent.futures.Future` is made only for callers that ask for :attr:`future`.
    """

    __slots__ = (
        "_error",
        "_future",
        "_lock",
        "_settled",
        "_value",
        "_waiter",
        "on_log",
        "on_progress",
    )

    def __init__(
        self,
        context: str,
        topic: str,
        what: str,
        timeout: float,
        *,
        discovery: bool = False,
        on_progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
    ) -> None:
        super().__init__(context, topic, what, timeout, discovery=discovery)
        self.on_progress = on_progress
        self.on_log = on_log
        self._lock = _thread.allocate_lock()  # guards the settling, not the waiting
        self._waiter = _thread.allocate_lock()  # held until the call is settled
        self._waiter.acquire()
        self._settled = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._future: Future[Any] | None = None
        self.deadline = time.monotonic() + timeout

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def done(self) -> bool:
        return self._settled

    @property
    def future(self) -> Future[Any]:
        """A future of the raw result, made on first use (cancelling it drops the result)."""
        with self._lock:
            future = self._future
            if future is None:
                future = self._future = Future()
                if self._settled:
                    _settle_future(future, self._value, self._error)
            return future

    def wait(self, timeout: float) -> bool:
        """Block until the call is settled, at most ``timeout`` s; whether it is."""
        if self._waiter.acquire(timeout=max(timeout, 0.0)):
            self._waiter.release()  # let any other waiter through too
            return True
        return False

    def outcome(self) -> Any:
        """The result of a settled call; raises its error."""
        if self._error is not None:
            raise self._error
        return self._value

    def resolve(self, value: Any) -> None:
        self._settle(value, None)

    def fail(self, exc: BaseException) -> None:
        self._settle(None, exc)

    def _settle(self, value: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._settled:
                return
            self._value, self._error = value, error
            self._settled = True
            future = self._future
        self._waiter.release()
        if future is not None:
            _settle_future(future, value, error)

    def expire(self) -> None:
        """Fail with the error that says why nothing came."""
        self.fail(self.timeout_error())

    def report_progress(self, report: dict[str, Any]) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(report)
        except Exception:  # a broken callback must not break the connection
            log.exception("progress callback of %s failed", self.what)

    def report_log(self, record: dict[str, Any]) -> None:
        if self.on_log is not None:
            try:
                self.on_log(record)
            except Exception:
                log.exception("log callback of %s failed", self.what)
            return
        level = record.get("level", "INFO")
        levelno = level if isinstance(level, int) else _LEVELS.get(str(level).upper(), 20)
        remote_log.log(levelno, "[%s] %s", self.topic, record.get("message"))


def _settle_future(future: Future[Any], value: Any, error: BaseException | None) -> None:
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except InvalidStateError:
        pass  # the caller cancelled it meanwhile
