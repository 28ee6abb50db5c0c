"""Progress reports from inside a backend function, sent to the caller as ``progress`` messages.

The payload is a deprogressapi ``ProgressReport`` tree (PROTOCOL.md §10): every update resends
the whole tree from the root. Sending is throttled, so a tight loop that reports thousands of
steps costs a few messages per second, and the final state is always sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..protocol import Status

#: what a reporter sends: the root report as a dict, and its status
ProgressSink = Callable[[dict[str, Any], str], None]

#: at most one throttled update per this many seconds (≈ 20 messages/s)
MIN_INTERVAL = 0.05

_DEFAULT_SETTINGS = {"show_method": "AUTO", "use_curses": True}


class _Channel:
    """Shared by all nodes of one tree: the lock, the sink and the throttle."""

    def __init__(self, sink: ProgressSink | None, min_interval: float) -> None:
        self.sink = sink
        self.min_interval = min_interval
        self.lock = threading.RLock()
        self.last_sent = 0.0
        self.timer: threading.Timer | None = None
        self.closed = False
        self.root: ProgressReporter | None = None

    def submit(self, force: bool) -> None:
        with self.lock:
            if self.closed or self.sink is None or self.root is None:
                return
            wait = self.last_sent + self.min_interval - time.monotonic()
            if force or wait <= 0:
                self._send_locked()
            elif self.timer is None:
                # coalesce: one deferred send carries the latest state of the tree
                self.timer = threading.Timer(wait, self._flush)
                self.timer.daemon = True
                self.timer.start()

    def _flush(self) -> None:
        with self.lock:
            self.timer = None
            if not self.closed:
                self._send_locked()

    def _send_locked(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        assert self.root is not None and self.sink is not None
        try:
            self.sink(self.root.to_dict(), self.root.status)
        finally:
            # measured from the end: a slow sink (big tree, slow socket) sends less often
            self.last_sent = time.monotonic()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None


class ProgressReporter:
    """A node of a progress tree; annotate a parameter with this type to receive one.

    ::

        def work(n: int, reporter: ProgressReporter) -> int:
            with reporter.step("Loading", steps=n) as sub:
                for _ in range(n):
                    sub.advance()
            reporter.progress(0.5, "half way")
            return n

    Outside a backend (called directly) a reporter sends nothing.
    """

    def __init__(
        self,
        step_message: str = "",
        steps: int = 0,
        *,
        report_id: str = "root",
        settings: dict[str, Any] | None = None,
        sink: ProgressSink | None = None,
        min_interval: float = MIN_INTERVAL,
        _channel: _Channel | None = None,
    ) -> None:
        self.step_message = step_message
        self.steps = int(steps)
        self.report_id = report_id
        self.status: str = Status.RUNNING.value
        self.settings = dict(settings or _DEFAULT_SETTINGS)
        self.children: list[ProgressReporter] = []
        self.fraction: float | None = None
        self._channel = _channel or _Channel(sink, min_interval)
        if _channel is None:
            self._channel.root = self

    @classmethod
    def from_request(
        cls,
        value: Any,
        sink: ProgressSink | None,
        default_message: str = "",
        min_interval: float = MIN_INTERVAL,
    ) -> ProgressReporter:
        """A root reporter configured by the request's report object (a dict or ``None``).

        A report whose ``settings.show_method`` is ``"NONE"`` gets a silent reporter, as in
        deprogressapi.
        """
        config = value if isinstance(value, dict) else {}
        settings = config.get("settings") if isinstance(config.get("settings"), dict) else None
        if settings and str(settings.get("show_method", "")).upper() == "NONE":
            sink = None
        message = config.get("step_message")
        steps = config.get("steps")
        return cls(
            message if isinstance(message, str) and message else default_message,
            steps if isinstance(steps, int) and steps >= 0 else 0,
            report_id=str(config.get("report_id") or "root"),
            settings={**_DEFAULT_SETTINGS, **(settings or {})},
            sink=sink,
            min_interval=min_interval,
        )

    # -- the user API -------------------------------------------------------------------

    def step(self, step_message: str, steps: int = 0) -> ProgressReporter:
        """Add a running child step; use it as a context manager to finish it."""
        with self._channel.lock:
            child = ProgressReporter(
                step_message,
                steps,
                report_id=f"{self.report_id}.{len(self.children)}",
                settings=self.settings,
                _channel=self._channel,
            )
            self.children.append(child)
        self._channel.submit(force=False)
        return child

    def advance(self, step_message: str | None = None) -> None:
        """Record one finished sub-step (shown as ``k`` of ``steps``)."""
        with self._channel.lock:
            index = len(self.children)
            child = ProgressReporter(
                step_message if step_message is not None else f"step {index}",
                report_id=f"{self.report_id}.{index}",
                settings=self.settings,
                _channel=self._channel,
            )
            child.status = Status.SUCCESS.value
            self.children.append(child)
        self._channel.submit(force=False)

    def update(self, step_message: str | None = None, *, steps: int | None = None) -> None:
        """Change this step's message and/or planned number of sub-steps."""
        with self._channel.lock:
            if step_message is not None:
                self.step_message = step_message
            if steps is not None:
                self.steps = int(steps)
        self._channel.submit(force=False)

    def progress(self, fraction: float, step_message: str | None = None) -> None:
        """Report a completed fraction (0…1) and optionally a new message."""
        with self._channel.lock:
            self.fraction = min(1.0, max(0.0, float(fraction)))
            if step_message is not None:
                self.step_message = step_message
        self._channel.submit(force=False)

    def complete(self, status: Status | str = Status.SUCCESS) -> None:
        """Finish this step with ``status``; finishing the root sends at once."""
        with self._channel.lock:
            self.status = Status(status).value
        self._channel.submit(force=self.is_root)

    # deprogressapi spellings, so code written for the reference runs unchanged
    def create_subreport(self, step_message: str = "", steps: int = 0, **_: Any):
        return self.step(step_message, steps)

    def submit(self) -> None:
        self._channel.submit(force=False)

    def __enter__(self) -> ProgressReporter:
        with self._channel.lock:
            self.status = Status.RUNNING.value
        self._channel.submit(force=self.is_root)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.complete(Status.SUCCESS if exc is None else Status.ERROR)

    # -- used by the runtime ------------------------------------------------------------

    @property
    def is_root(self) -> bool:
        return self._channel.root is self

    def finish(self, status: Status | str) -> None:
        """Send the final state (unless the user already did) and stop sending."""
        with self._channel.lock:
            final = Status(status).value
            if self.status == Status.RUNNING.value or final == Status.ERROR.value:
                self.status = final
                self._channel.submit(force=True)
            elif self._channel.timer is not None:
                self._channel.submit(force=True)  # flush a deferred update
            self._channel.close()

    def to_dict(self) -> dict[str, Any]:
        """The report as deprogressapi's ``ProgressReport`` JSON shape."""
        with self._channel.lock:
            data: dict[str, Any] = {
                "settings": dict(self.settings),
                "report_id": self.report_id,
                "status": self.status,
                "step_message": self.step_message,
                "steps": self.steps,
                "children": [child.to_dict() for child in self.children],
                "report_type": "tree",
            }
            if self.fraction is not None:
                data["fraction"] = self.fraction  # extension; reference readers ignore it
            return data

    def __repr__(self) -> str:
        return (
            f"ProgressReporter({self.step_message!r}, steps={self.steps}, "
            f"status={self.status!r}, children={len(self.children)})"
        )
