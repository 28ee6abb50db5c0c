"""Run/Cancel buttons, progress bar, result name and output area of a form."""

from __future__ import annotations

import html
import keyword
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..error_view import error_html
from .progress import ProgressSink
from .result_view import result_outputs

#: ``runner(request, sink) -> result``; called on a worker thread
Runner = Callable[[dict[str, Any], ProgressSink], Any]

#: theme colour of each kind of message (JupyterLab CSS variables: dark themes too)
MESSAGE_COLOURS = {
    "info": "var(--jp-ui-font-color1)",
    "success": "var(--jp-success-color1)",
    "warning": "var(--jp-warn-color1)",
    "error": "var(--jp-error-color1)",
}


class RunPanel(w.VBox):
    """Starts the runner on a worker thread and shows progress, result or error."""

    def __init__(
        self,
        *,
        request: Callable[[], dict[str, Any]],
        validate: Callable[[], dict[str, str]],
        runner: Runner | None,
        namespace: dict[str, Any],
        result_name: str,
    ) -> None:
        self._request, self._validate = request, validate
        self.runner = runner
        self.namespace = namespace
        self.result: Any = None
        self.error: BaseException | None = None
        self.calls = 0  #: how many calls were started
        self._lock = threading.Lock()
        self._call_id = 0
        self._sink: ProgressSink | None = None
        self._done = threading.Event()
        self._done.set()
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.cancel_button.tooltip = "stop waiting; the result of this call will be ignored"
        self.result_name = w.Text(value=result_name, description="store result as")
        self.result_name.style.description_width = "initial"
        self.progress = w.IntProgress(min=0, max=100, value=0, layout=w.Layout(width="50%"))
        self.progress_label = w.HTML()
        #: the one message area: validation problems, running, done, abandoned or the error
        self.summary = w.HTML()
        self.summary.add_class("dasf-form-message")
        self.output = w.Output()
        self.run_button.on_click(lambda _b: self.run())
        self.cancel_button.on_click(lambda _b: self.cancel())
        buttons = w.HBox([self.run_button, self.cancel_button, self.result_name])
        # shown from the first run on: an empty grey bar says nothing
        bar = self.progress_bar = w.HBox(
            [self.progress, self.progress_label], layout=w.Layout(display="none")
        )
        super().__init__(children=[buttons, bar, self.summary, self.output])

    @property
    def busy(self) -> bool:
        """Whether a call is running (and not abandoned)."""
        return not self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """Block until the current call finished or was abandoned; ``False`` on timeout."""
        return self._done.wait(timeout)

    def _say(self, message: str, kind: str = "info") -> None:
        """Replace the message area's text (each new message replaces the last one)."""
        colour = MESSAGE_COLOURS[kind]
        self.summary.value = (
            f'<div data-kind="{kind}" style="color:{colour}">{html.escape(message)}</div>'
        )

    def _check(self) -> str | None:
        """Why the form cannot be run now, or ``None``."""
        problems = self._validate()
        if problems:
            fields = ", ".join(problems)
            return f"{len(problems)} field(s) need attention: {fields}"
        if self.runner is None:
            return "this form is not connected to a module (no runner)"
        name = self.result_name.value.strip()
        if not name.isidentifier() or keyword.iskeyword(name):
            return f"{name!r} is not a valid variable name to store the result under"
        return None

    def run(self) -> bool:
        """Validate and start the call in the background; ``False`` if it did not start."""
        with self._lock:
            if self.busy:
                return False  # the button is disabled too; this guards programmatic calls
            problem = self._check()
            if problem:
                self._say(problem, "error")
                return False
            self._call_id += 1
            self.calls += 1
            self._done = threading.Event()
            self._sink = ProgressSink(self.progress, self.progress_label)
            self._set_running(True)
            self._say("running …")
            request, name = self._request(), self.result_name.value.strip()
            worker = threading.Thread(
                target=self._work,
                args=(self._call_id, request, self._sink, name),
                name=f"dasf-form-call-{self._call_id}",
                daemon=True,  # an abandoned call must not keep the kernel alive
            )
        worker.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.cancel_button.disabled = not running
        if running:
            self.progress_bar.layout.display = None
            self.progress.value, self.progress.bar_style = 0, ""
            self.progress_label.value = ""
            self.output.outputs = ()

    def _work(self, call_id: int, request: dict[str, Any], sink: ProgressSink, name: str) -> None:
        try:
            result = self.runner(request, sink)  # type: ignore[misc]
        except BaseException as exc:  # shown to the user, whatever it is
            self._finish(call_id, error=exc)
        else:
            self._finish(call_id, result=result, name=name)

    def _finish(
        self,
        call_id: int,
        *,
        result: Any = None,
        name: str = "",
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            if call_id != self._call_id or self._done.is_set():
                return  # abandoned: the user stopped waiting for this call
            self.result, self.error = result, error
            if error is None:
                self.namespace[name] = result
                self.progress.value, self.progress.bar_style = self.progress.max, "success"
                self.output.outputs = result_outputs(result)
                self._say(f"done — result stored as {name}", "success")
            else:
                self.progress.bar_style = "danger"
                self.output.outputs = ()
                self.summary.value = error_html(error)
            self._set_running(False)
            self._done.set()

    def cancel(self) -> None:
        """Stop waiting for the running call; its late result or progress is ignored."""
        with self._lock:
            if not self.busy:
                return
            if self._sink is not None:
                self._sink.cancelled.set()
            self.progress.bar_style = "warning"
            self._say(
                "abandoned — the module may still finish it, but the result is ignored", "warning"
            )
            self._set_running(False)
            self._done.set()
