"""ProgressReporter: deprogressapi-compatible trees, throttling, thread safety."""

from __future__ import annotations

import json
import threading

import pytest
from deprogressapi import BaseReport, ProgressReport

from dasf_jupyter.backend.progress import ProgressReporter
from tests.waiting import eventually


class Recorder:
    """A sink that keeps every sent report."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict, str]] = []
        self.lock = threading.Lock()

    def __call__(self, report: dict, status: str) -> None:
        with self.lock:
            self.sent.append((report, status))


def test_reports_decode_with_deprogressapi_models():
    sink = Recorder()
    reporter = ProgressReporter("Working", steps=2, sink=sink, min_interval=0)
    with reporter:
        with reporter.step("Loading", steps=3) as sub:
            sub.advance()
            sub.advance("second")
        reporter.progress(0.5, "half way")
    assert sink.sent, "nothing was sent"
    for report, status in sink.sent:
        model = BaseReport.from_payload(json.dumps(report))
        assert isinstance(model, ProgressReport)
        assert model.status.value == status
    final = ProgressReport.model_validate(sink.sent[-1][0])
    assert final.status.value == "success"
    assert final.step_message == "half way"
    assert final.steps == 2
    (loading,) = final.children
    assert loading.step_message == "Loading" and loading.status.value == "success"
    assert [c.step_message for c in loading.children] == ["step 0", "second"]
    assert sink.sent[-1][0]["fraction"] == 0.5


def test_report_shape_matches_the_reference_keys():
    reporter = ProgressReporter("Working")
    assert reporter.to_dict() == {
        "settings": {"show_method": "AUTO", "use_curses": True},
        "report_id": "root",
        "status": "running",
        "step_message": "Working",
        "steps": 0,
        "children": [],
        "report_type": "tree",
    }
    reference = ProgressReport(step_message="Working").model_dump(mode="json")
    assert set(reference) == set(reporter.to_dict())


def test_a_failing_block_marks_the_step_as_error():
    sink = Recorder()
    reporter = ProgressReporter("Working", sink=sink, min_interval=0)
    with pytest.raises(ValueError), reporter.step("Risky") as sub:
        raise ValueError("boom")
    assert sub.status == "error"
    reporter.finish("error")
    assert sink.sent[-1][1] == "error"
    assert sink.sent[-1][0]["children"][0]["status"] == "error"


def test_updates_are_throttled_but_the_final_state_is_sent():
    sink = Recorder()
    reporter = ProgressReporter("Loop", steps=2000, sink=sink, min_interval=0.05)
    for _ in range(2000):
        reporter.advance()
    reporter.finish("success")
    assert len(sink.sent) < 100
    final, status = sink.sent[-1]
    assert status == "success" and len(final["children"]) == 2000


def test_a_deferred_update_is_flushed_after_the_interval():
    sink = Recorder()
    reporter = ProgressReporter("Wait", sink=sink, min_interval=0.05)
    reporter.update("first")  # sent at once
    reporter.update("second")  # deferred
    eventually(lambda: len(sink.sent) >= 2, timeout=5, message="the deferred update")
    assert [r["step_message"] for r, _ in sink.sent] == ["first", "second"]
    reporter.finish("success")


def test_nothing_is_sent_after_finish():
    sink = Recorder()
    reporter = ProgressReporter("Done", sink=sink, min_interval=0)
    reporter.finish("success")
    count = len(sink.sent)
    reporter.update("late")
    assert len(sink.sent) == count


def test_show_method_none_makes_a_silent_reporter():
    sink = Recorder()
    config = {"step_message": "Quiet", "settings": {"show_method": "NONE"}}
    reporter = ProgressReporter.from_request(config, sink, min_interval=0)
    with reporter:
        reporter.advance()
    reporter.finish("success")
    assert sink.sent == []
    assert reporter.step_message == "Quiet"


def test_from_request_takes_message_and_steps_from_the_report_object():
    reporter = ProgressReporter.from_request({"step_message": "Hi", "steps": 4}, None)
    assert (reporter.step_message, reporter.steps) == ("Hi", 4)
    fallback = ProgressReporter.from_request("nonsense", None, default_message="fn")
    assert fallback.step_message == "fn"


def test_concurrent_updates_from_many_threads_are_safe():
    sink = Recorder()
    reporter = ProgressReporter("Parallel", sink=sink)

    def work(n: int) -> None:
        with reporter.step(f"thread {n}") as sub:
            for _ in range(200):
                sub.advance()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    reporter.finish("success")
    final = ProgressReport.model_validate(sink.sent[-1][0])
    assert len(final.children) == 8
    assert all(len(child.children) == 200 for child in final.children)


def test_deprogressapi_spellings_work():
    sink = Recorder()
    reporter = ProgressReporter("Ref", sink=sink, min_interval=0)
    with reporter, reporter.create_subreport(step_message="step 0"):
        pass
    assert sink.sent[-1][0]["children"][0]["step_message"] == "step 0"
    assert sink.sent[-1][1] == "success"
