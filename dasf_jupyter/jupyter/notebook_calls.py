"""Remote calls from a notebook cell that show the module's progress as a progress bar.

The cell's thread waits for the call and draws the bar itself, so the bar lands in the cell
that made the call (ipykernel 7 routes output of other threads unreliably) and Ctrl-C /
"interrupt kernel" stops waiting at once.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..client import RemoteFunction, RemoteModule

POLL_INTERVAL = 0.1


def in_kernel() -> bool:
    """Whether we run inside an IPython kernel that can show widgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class CallProgress:
    """A progress bar shown on the first progress report; updated by :meth:`wait`."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.reports: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.sink: Any = None  # forms' ProgressSink, created on the first report

    def _show(self) -> None:
        import ipywidgets as w
        from IPython.display import display

        from .forms.progress import ProgressSink

        class ProgressBox(w.HBox):
            def __repr__(self) -> str:  # a saved notebook's text, not a widget tree dump
                return f"progress of {title} (shown while the call runs)"

        title = self.title
        bar = w.IntProgress(min=0, max=100, value=0, description=self.title[:20])
        label = w.HTML()
        self.sink = ProgressSink(bar, label)
        display(ProgressBox([bar, label]))

    def _drain(self) -> None:
        while True:
            try:
                report = self.reports.get_nowait()
            except queue.Empty:
                return
            if self.sink is None:
                self._show()
            self.sink.update(report)

    def wait(self, future: Future[Any]) -> Any:
        """The result of ``future``, drawing progress meanwhile (the call's timeout bounds it)."""
        try:
            while True:
                try:
                    result = future.result(timeout=POLL_INTERVAL)
                    break
                except FutureTimeout:
                    self._drain()
        except KeyboardInterrupt:
            self._drain()
            if self.sink is not None:
                self.sink.bar.bar_style = "warning"
                self.sink.label.value = "interrupted — no longer waiting for the result"
            raise
        except BaseException:
            self._drain()
            if self.sink is not None:
                self.sink.bar.bar_style = "danger"
            raise
        self._drain()
        if self.sink is not None:
            self.sink.bar.value, self.sink.bar.bar_style = self.sink.bar.max, "success"
        return result


class NotebookFunction(RemoteFunction):
    """A :class:`RemoteFunction` whose plain calls show progress as a bar in a kernel."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._on_progress is not None or not in_kernel():
            return super().__call__(*args, **kwargs)
        progress = CallProgress(self.__qualname__)
        return progress.wait(self.submit(*args, on_progress=progress.reports.put, **kwargs))


class NotebookModule(RemoteModule):
    """A :class:`RemoteModule` whose functions are :class:`NotebookFunction` objects."""

    function_type = NotebookFunction
