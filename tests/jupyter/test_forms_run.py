"""The run flow: Run button, progress bar, cancel, result storage and error display."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import xarray as xr

from dasf_jupyter.errors import RemoteError
from dasf_jupyter.jupyter.forms import ProgressSink, form_for, report_fraction

from .data import load_api_info

WAIT = 10  # seconds; generous upper bound for a background thread to finish


def report(steps: int, done: int, status: str = "running", **extra) -> dict:
    """A deprogressapi ProgressReport dict with ``done`` finished children."""
    children = [
        {"report_id": "root", "status": "success", "step_message": f"step {i}", "steps": 0}
        for i in range(done)
    ]
    return {
        "step_message": "Working",
        "steps": steps,
        "children": children,
        "status": status,
        "report_type": "tree",
        **extra,
    }


def slow_form(namespace: dict, runner=None):
    """The form of ``slow(steps: int)`` with its required number filled in."""
    form = form_for(load_api_info(), "slow", namespace=namespace, runner=runner)
    form.fill({"steps": 2})
    return form


def test_run_calls_the_runner_with_the_request_and_stores_the_result():
    namespace: dict = {}
    seen: list = []

    def runner(request, sink):
        seen.append(request)
        return request["count"] * 2

    form = form_for(load_api_info(), "scalars", namespace=namespace, runner=runner)
    form.fields.fields["count"].control.value = "4"
    form.result_name.value = "doubled"
    form.run_button.click()
    assert form.wait(WAIT)
    assert seen == [
        {
            "func_name": "scalars",
            "count": 4,
            "ratio": 0.5,
            "code": "ABC",
            "flag": False,
            "plain": 3,
            "scale": 1.5,
        }
    ]
    assert form.result == 8
    assert namespace["doubled"] == 8
    assert form.output.outputs[0]["data"]["text/plain"] == "8"
    assert form.progress.value == form.progress.max
    assert "doubled" in form.run_panel.summary.value


def test_button_is_disabled_while_running_and_double_click_does_not_resubmit():
    release = threading.Event()
    started = threading.Event()
    calls: list = []

    def runner(request, sink):
        calls.append(request)
        started.set()
        assert release.wait(WAIT)
        return "ok"

    form = slow_form(namespace={}, runner=runner)
    form.run_button.click()
    assert started.wait(WAIT)
    assert form.run_button.disabled and not form.cancel_button.disabled
    form.run_button.click()
    assert form.run() is False
    release.set()
    assert form.wait(WAIT)
    assert len(calls) == 1 and form.run_panel.calls == 1
    assert not form.run_button.disabled and form.cancel_button.disabled


def test_progress_reports_move_the_bar_from_the_worker_thread():
    step = threading.Event()
    proceed = threading.Event()
    threads: list = []

    def runner(request, sink):
        threads.append(threading.current_thread())
        sink.update(report(4, 1))
        step.set()
        assert proceed.wait(WAIT)
        sink.update(report(4, 3))
        return request["steps"]

    form = slow_form(namespace={}, runner=runner)
    form.fields.fields["steps"].control.value = "4"
    form.run()
    assert step.wait(WAIT)
    assert form.progress.value == 25
    assert "Working" in form.run_panel.progress_label.value
    assert "(1/4)" in form.run_panel.progress_label.value
    proceed.set()
    assert form.wait(WAIT)
    assert threads[0] is not threading.main_thread()
    assert form.result == 4 and form.progress.value == 100


def test_report_fraction_reads_fraction_steps_and_status():
    assert report_fraction({"fraction": 0.4}) == 0.4
    assert report_fraction({"fraction": 7}) == 1.0
    assert report_fraction(report(2, 1)) == 0.5
    assert report_fraction(report(0, 0)) is None
    assert report_fraction(report(3, 0, status="success")) == 1.0


def test_sink_ignores_garbage_reports():
    import ipywidgets as w

    sink = ProgressSink(w.IntProgress(max=100), w.HTML())
    sink.update("not a dict")  # type: ignore[arg-type]
    sink.update({"steps": "many", "children": "x"})
    assert sink.bar.value == 0 and sink.reports == 1


def test_remote_errors_show_one_line_and_the_folded_remote_traceback():
    def runner(request, sink):
        raise RemoteError(
            "division by zero (topic 'demo')",
            exc_type="ZeroDivisionError",
            traceback='Traceback (most recent call last):\n  File "<dasf module demo>", '
            "line 3, in f\nZeroDivisionError: division by zero",
            topic="demo",
        )

    namespace: dict = {}
    form = slow_form(namespace=namespace, runner=runner)
    form.run()
    assert form.wait(WAIT)
    assert isinstance(form.error, RemoteError)
    message = form.run_panel.summary.value
    line, _, details = message.partition("<details")
    assert "ZeroDivisionError</b>: division by zero" in line
    assert "remote" in line and "<code>demo</code>" in line
    assert "(topic" not in line  # the topic is named once
    assert "line 3, in f" in details and "remote traceback" in details
    assert message.count("division by zero") == 2  # the line, and the traceback's last line
    assert form.output.outputs == ()  # one message area: nothing repeated below it
    assert form.progress.bar_style == "danger"
    assert "slow_result" not in namespace
    assert not form.run_button.disabled


def test_local_exceptions_are_shown_with_their_type():
    def runner(request, sink):
        raise ValueError("bad value")

    form = slow_form(namespace={}, runner=runner)
    form.run()
    assert form.wait(WAIT)
    message = form.run_panel.summary.value
    assert "ValueError</b>: bad value" in message
    assert "Traceback" in message.partition("<details")[2]


def test_a_new_message_replaces_the_old_one():
    def runner(request, sink):
        raise RemoteError("boom", exc_type="RuntimeError", topic="demo")

    form = slow_form(namespace={}, runner=runner)
    form.run()
    assert form.wait(WAIT)
    assert "boom" in form.run_panel.summary.value
    form.fields.fields["steps"].control.value = ""
    assert form.run() is False
    message = form.run_panel.summary.value
    assert "1 field(s) need attention: steps" in message and "boom" not in message


def test_invalid_form_does_not_call_the_runner():
    calls: list = []
    form = form_for(load_api_info(), "choices", namespace={}, runner=lambda r, s: calls.append(r))
    assert form.run() is False
    assert calls == []
    assert "1 field(s) need attention: colour" in form.run_panel.summary.value
    assert "required" in form.fields.fields["colour"].error.value


def test_bad_result_name_and_missing_runner_are_reported():
    form = slow_form(namespace={})
    assert form.run() is False
    assert "no runner" in form.run_panel.summary.value
    form.run_panel.runner = lambda r, s: 1
    form.result_name.value = "not a name"
    assert form.run() is False
    assert "not a valid variable name" in form.run_panel.summary.value


def test_cancel_abandons_the_call_and_ignores_its_late_result():
    release = threading.Event()
    started = threading.Event()
    late_progress_sent = threading.Event()
    namespace: dict = {}

    def runner(request, sink):
        started.set()
        assert release.wait(WAIT)
        sink.update(report(2, 2))
        late_progress_sent.set()
        return "late"

    form = slow_form(namespace=namespace, runner=runner)
    form.run()
    assert started.wait(WAIT)
    form.cancel_button.click()
    assert not form.run_panel.busy and not form.run_button.disabled
    message = form.run_panel.summary.value
    assert "abandoned" in message
    assert "success" not in message and 'data-kind="warning"' in message
    assert "var(--jp-warn-color1)" in message
    release.set()
    assert late_progress_sent.wait(WAIT)
    # the worker finishes right after; give it the chance, then check nothing leaked in
    for thread in threading.enumerate():
        if thread.name.startswith("dasf-form-call-"):
            thread.join(WAIT)
    assert "slow_result" not in namespace
    assert form.result is None
    assert form.progress.value == 0


def test_rich_result_uses_the_objects_html_repr():
    da = xr.DataArray(np.arange(4.0), dims="x", name="line")
    form = slow_form(namespace={}, runner=lambda r, s: da)
    form.run()
    assert form.wait(WAIT)
    data = form.output.outputs[0]["data"]
    assert "xarray" in data["text/html"]
    assert form.result is da


def test_quick_plot_for_one_dimensional_numeric_results():
    pytest.importorskip("matplotlib")
    form = slow_form(namespace={}, runner=lambda r, s: np.arange(5.0))
    form.run()
    assert form.wait(WAIT)
    assert any("image/png" in o["data"] for o in form.output.outputs)


def test_pandas_result_is_shown_as_a_table():
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2]})
    form = slow_form(namespace={}, runner=lambda r, s: frame)
    form.run()
    assert form.wait(WAIT)
    assert "<table" in form.output.outputs[0]["data"]["text/html"]


def test_sink_accepts_deprogressapi_report_objects():
    import ipywidgets as w
    from deprogressapi import ProgressReport

    sink = ProgressSink(w.IntProgress(max=100), w.HTML())
    tree = ProgressReport(step_message="Working", steps=2)
    tree.children.append(ProgressReport(step_message="step 0", status="success"))
    sink.update(tree)
    assert sink.bar.value == 50
    assert "(1/2)" in sink.label.value
