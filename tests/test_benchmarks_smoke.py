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


def test_floor_ratio_is_ours_divided_by_the_floor() -> None:
    latency = Metric("1", "echo p50", "ms")
    latency.add("ours", 1.5)
    latency.add("floor", 0.5)
    assert latency.floor_ratio() == "3.00×"
    rate = Metric("2", "calls", "calls/s", higher_is_better=True)
    rate.add("ours", 500.0)
    rate.add("floor", 2000.0)
    assert rate.floor_ratio() == "0.25×"
    assert Metric("3", "t", "s").floor_ratio() == "—"


def test_floor_client_correlates_replies_of_many_threads() -> None:
    """Real relay, backend and client processes: each thread gets its own answers back."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.floor.client import FloorClient
    from benchmarks.floor.grids import grid_from, grid_parts
    from benchmarks.stacks import FloorStack

    with FloorStack() as stack:
        stack.start_backend("t")
        stack.start_backend("t")  # two replicas: requests alternate between them
        client = FloorClient(stack.url, "t", timeout=30)
        try:
            with ThreadPoolExecutor(4) as pool:
                sums = list(pool.map(lambda i: client.call("add", {"a": i, "b": 1}), range(40)))
            assert [head["result"] for head, _ in sums] == [i + 1 for i in range(40)]
            head, body = client.call("make_grid", {"n": 3})
            grid = grid_from(head["grid"], body)
            assert grid.values.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
            assert grid["x"].values.tolist() == [0, 0.5, 1.0]
            # above the fragment size: streamed through the relay frame by frame, both ways
            head, body = client.call("make_grid", {"n": 600})
            big = grid_from(head["grid"], body)
            assert big.shape == (600, 600) and float(big[599, 599]) == 600 * 600 - 1
            grid_head, parts = grid_parts(big)
            head, _ = client.call("grid_mean", {}, parts, **grid_head)
            assert head["result"] == (600 * 600 - 1) / 2
        finally:
            client.close()


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
def test_tiny_run_fills_every_row_for_all_three_stacks(tmp_path: Path) -> None:
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
    for number, metric, _unit, ours, floor, reference, floor_ratio, _ratio in cells:
        if "default limits" in metric:
            # demessaging's own client cannot reassemble a fragmented result
            assert reference.startswith("**fails**"), reference
            continue
        assert ours[0].isdigit(), f"ours failed in row {number} {metric}: {ours}"
        assert floor[0].isdigit(), f"floor failed in row {number} {metric}: {floor}"
        assert floor_ratio[0].isdigit(), f"no ours vs floor in row {number} {metric}"
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
