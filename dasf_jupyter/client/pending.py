"""One call that waits for its answer: a future, a resettable deadline and callbacks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ..errors import CallTimeout, DasfError, ModuleNotServed
from ..security import ReplyOpener
from .hints import not_served_hint

log = logging.getLogger(__name__)
remote_log = logging.getLogger("dasf_jupyter.remote")

ProgressCallback = Callable[[dict[str, Any]], Any]
LogCallback = Callable[[dict[str, Any]], Any]

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def request_ttl(remaining: float) -> float:
    """The ``dasf_ttl`` of a request: how long the broker may keep it undelivered.

    The caller gives up after ``remaining`` seconds; the broker counts from when it receives
    the request, so a margin (a tenth, at most 1 s) covers the transit.
    """
    return max(remaining - min(1.0, 0.1 * remaining), 0.001)


class PendingCall:
    """A request in flight; resolved once, by a response, an error or its deadline."""

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
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.context = context
        self.topic = topic
        self.what = what
        self.timeout = timeout
        self.discovery = discovery
        self.on_progress = on_progress
        self.on_log = on_log
        self.future: Future[Any] = Future()
        #: opens the sealed replies of a sealed request (set before the request is sent)
        self.opener: ReplyOpener | None = None
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + timeout

    def touch(self) -> None:
        """Any sign of life from the backend resets the deadline (progress may be slow)."""
        self._deadline = time.monotonic() + self.timeout

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

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

    def timeout_error(self) -> DasfError:
        if self.discovery:
            return ModuleNotServed(
                f"no backend module answered on topic {self.topic!r} within {self.timeout:g} s; "
                f"check the topic name, or {not_served_hint(self.topic)}"
            )
        return CallTimeout(
            f"no answer to {self.what} from topic {self.topic!r} within {self.timeout:g} s "
            "(and no progress or log message either); the module may be stuck, overloaded or "
            "gone — check that it runs, or pass a larger timeout="
        )

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
