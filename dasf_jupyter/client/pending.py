"""One call that a thread waits for: a session's call state plus a future and callbacks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
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
    life from the backend.
    """

    __slots__ = ("_lock", "future", "on_log", "on_progress")

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
        self.future: Future[Any] = Future()
        self._lock = threading.Lock()
        self.deadline = time.monotonic() + timeout

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def resolve(self, value: Any) -> None:
        with self._lock:
            if not self.future.done():
                self.future.set_result(value)

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if not self.future.done():
                self.future.set_exception(exc)

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
