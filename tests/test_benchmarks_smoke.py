"""Smoke run of the benchmark harness at minimal sizes: it runs, and fills every row.

No timing assertions here (speed is what ``python -m benchmarks`` reports, not a test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import parse_rows
from benchmarks.results import Metric, Results
from benchmarks.runner import percentile

REPO_ROOT = Path(__file__).resolve().parents[1]


def table_cells(markdown: str) -> list[list[str]]:
    """The body rows of the markdown table, split into stripped cells."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith(("| #", "| ---")):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 95) == 3.0


def test_ratio_says_how_many_times_better_ours_is() -> None:
    latency = Metric("1", "echo p50", "ms")
    latency.add("ours", 2.0)
    latency.add("reference", 40.0)
    assert latency.ratio() == "20.0×"
    rate = Metric("2", "calls", "calls/s", higher_is_better=True)
    rate.add("ours", 10.0)
    rate.add("reference", 40.0)
    assert rate.ratio() == "0.25× (worse)"


def test_failed_reference_cell_shows_the_error() -> None:
    results = Results()
    metric = results.metric("3", "make_grid 1 MB", "s")
    metric.add("ours", 0.1)
    metric.fail("reference", "ValidationError: EOF while parsing a string\nmore")
    table = results.table()
    assert "**fails**: ValidationError: EOF while parsing a string |" in table
    assert "ref fails" in table


def test_unknown_rows_are_rejected() -> None:
    assert parse_rows("1, 3") == {"1", "3"}
    with pytest.raises(SystemExit, match="unknown rows"):
        parse_rows("1,9")


@pytest.mark.slow
def test_tiny_run_fills_every_row_for_both_stacks(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = table_cells(out.read_text())
    rows = {cell[0] for cell in cells}
    assert rows == {"1", "2", "3", "4", "5", "6", "7"}, out.read_text()
    for number, metric, _unit, ours, reference, _ratio in cells:
        if "default limits" in metric:
            # demessaging's own client cannot reassemble a fragmented result
            assert reference.startswith("**fails**"), reference
            continue
        assert ours[0].isdigit(), f"ours failed in row {number} {metric}: {ours}"
        assert reference[0].isdigit(), f"reference failed in row {number} {metric}: {reference}"
    assert "stack failed" not in out.read_text()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_tiny_soak_on_a_broker_pair_counts_every_call(tmp_path: Path) -> None:
    from tests.brokerfixtures import scaleout_services

    scaleout_services()  # skips (fails in CI) without PostgreSQL and Redis
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--tiny", "--max-seconds", "60"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("80 calls over 2 broker(s) to 2 replica(s)"), summary
    assert "unaccounted (lost silently): 0; run twice: 0" in summary, summary
