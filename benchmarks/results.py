"""Measured values per (row, metric, stack), their summaries and the markdown table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

STACKS = ("ours", "floor", "reference")


@dataclass
class Metric:
    """One table line: a workload row and what is measured in it."""

    row: str  #: workload id, e.g. "1"
    name: str  #: e.g. "echo p50"
    unit: str  #: e.g. "ms"
    higher_is_better: bool = False
    values: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, stack: str, value: float) -> None:
        self.values.setdefault(stack, []).append(value)

    def fail(self, stack: str, error: str) -> None:
        self.errors.setdefault(stack, error.strip().splitlines()[0][:160] if error else "failed")

    def skip(self, stack: str, why: str) -> None:
        self.skipped[stack] = why

    def median(self, stack: str) -> float | None:
        values = self.values.get(stack)
        return statistics.median(values) if values else None

    def cell(self, stack: str) -> str:
        """``median (min–max, n runs)``, or the failure."""
        values = self.values.get(stack)
        if not values:
            if stack in self.skipped:
                return f"skipped: {self.skipped[stack]}"
            error = self.errors.get(stack)
            return f"**fails**: {error}" if error else "—"
        text = fmt(statistics.median(values))
        if len(values) > 1:
            text += f" ({fmt(min(values))}–{fmt(max(values))}, n={len(values)})"
        if stack in self.errors:
            text += f" [{self.errors[stack]}]"
        return text

    def floor_ratio(self) -> str:
        """Ours ÷ floor: the multiple of the floor we reach (1.0 = at the floor).

        For times, latencies and memory lower is better, for rates higher is better.
        """
        ours, floor = self.median("ours"), self.median("floor")
        if ours is None or floor is None or floor <= 0:
            return "—"
        return f"{ours / floor:.2f}×"

    def ratio(self) -> str:
        """How many times better ours is than the reference (>1 better, <1 worse)."""
        ours, ref = self.median("ours"), self.median("reference")
        if ours is None or ref is None:
            if ours is not None and "reference" in self.errors:
                return "ref fails"
            return "—"
        if ours <= 0 or ref <= 0:
            return "—"
        ratio = ours / ref if self.higher_is_better else ref / ours
        return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}× (worse)"


def fmt(value: float) -> str:
    """Three significant digits, no exponent for the ranges we print."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


class Results:
    """Ordered collection of metrics plus free-text notes."""

    def __init__(self) -> None:
        self.metrics: dict[tuple[str, str], Metric] = {}
        self.notes: list[str] = []

    def metric(self, row: str, name: str, unit: str, higher_is_better: bool = False) -> Metric:
        key = (row, name)
        if key not in self.metrics:
            self.metrics[key] = Metric(row, name, unit, higher_is_better)
        return self.metrics[key]

    def note(self, text: str) -> None:
        """A footnote under the table (one line: error texts may span several)."""
        self.notes.append(" ".join(text.split())[:400])

    def table(self) -> str:
        """The markdown table: ours, floor, reference and the two ratios for every metric."""
        lines = [
            "| # | metric | unit | ours | floor | reference (tuned) | ours vs floor "
            "| ours vs reference |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        # stable sort: rows in order, metrics of a row in the order they were measured
        for m in sorted(self.metrics.values(), key=lambda m: int(m.row)):
            better = "higher" if m.higher_is_better else "lower"
            lines.append(
                f"| {m.row} | {m.name} ({better} is better) | {m.unit} | {m.cell('ours')} "
                f"| {m.cell('floor')} | {m.cell('reference')} | {m.floor_ratio()} "
                f"| {m.ratio()} |"
            )
        return "\n".join(lines)

    def markdown(self, header: str) -> str:
        notes = "\n".join(f"- {note}" for note in self.notes)
        body = f"{header}\n\n{self.table()}\n"
        return f"{body}\n{notes}\n" if notes else body
