"""Progress bar fed by deprogressapi-style report dicts, safe to call from a worker thread."""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as w


def report_fraction(report: dict[str, Any]) -> float | None:
    """How far a report says the work is (0…1), or ``None`` if it does not say.

    An explicit ``fraction`` wins; a finished report is 1; otherwise the share of the planned
    ``steps`` whose child reports finished successfully.
    """
    if isinstance(report.get("fraction"), (int, float)):
        return min(max(float(report["fraction"]), 0.0), 1.0)
    if report.get("status") == "success":
        return 1.0
    steps = report.get("steps")
    if isinstance(steps, int) and steps > 0:
        children = report.get("children") or []
        done = sum(1 for c in children if isinstance(c, dict) and c.get("status") == "success")
        return min(done / steps, 1.0)
    return None


def report_text(report: dict[str, Any]) -> str:
    """A one-line summary: the step message, the running sub-step, and ``done/planned``."""
    parts = [str(report.get("step_message") or "")]
    children = [c for c in report.get("children") or [] if isinstance(c, dict)]
    running = [c for c in children if c.get("status") == "running"]
    if running and running[-1].get("step_message"):
        parts.append(f"— {running[-1]['step_message']}")
    steps = report.get("steps")
    if isinstance(steps, int) and steps > 0:
        done = sum(1 for c in children if c.get("status") == "success")
        parts.append(f"({done}/{steps})")
    messages = report.get("messages")  # deprogressapi PrintReport
    if isinstance(messages, list) and messages:
        parts.append(str(messages[-1]))
    return " ".join(p for p in parts if p)


class ProgressSink:
    """What a runner calls with progress reports; updates stop once the call is abandoned."""

    def __init__(self, bar: w.IntProgress, label: w.HTML) -> None:
        self.bar = bar
        self.label = label
        self.cancelled = threading.Event()  #: set when the user abandons the call
        self.reports = 0  #: number of reports received (for tests and diagnostics)

    def update(self, report: dict[str, Any] | Any) -> None:
        """Show ``report`` (only trait assignments: safe from any thread)."""
        dump = getattr(report, "model_dump", None)  # a deprogressapi report object itself
        if callable(dump):
            report = dump(mode="json")
        if self.cancelled.is_set() or not isinstance(report, dict):
            return
        self.reports += 1
        fraction = report_fraction(report)
        if fraction is not None:
            self.bar.value = round(fraction * self.bar.max)
        if report.get("status") == "error":
            self.bar.bar_style = "danger"
        self.label.value = html.escape(report_text(report))
