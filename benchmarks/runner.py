"""The seven workloads, run against one stack; measurements go into ``Results``."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

from benchmarks.clients import CLIENT_START_TIMEOUT, ClientPool
from benchmarks.procs import ChildProcess
from benchmarks.results import Results
from benchmarks.rss import PeakRss, tree_rss
from benchmarks.settings import Settings
from benchmarks.stacks import Stack
from benchmarks.workloads import grid_side

TOPIC = "bench"
FANOUT_TOPIC = "bench-fanout"
DEFAULTS_TOPIC = "bench-defaults"
SHARED_SUBSCRIPTION = "bench-shared"
MiB = 1024 * 1024
KiB = 1024
ALL_ROWS = ("1", "2", "3", "4", "5", "6", "7")
IDLE_PER_HOLDER = 2500  #: sockets per holder process (each process has its own file limit)
IDLE_OPEN_TIMEOUT = 180.0
FRESH_METRICS = (
    "echo p50, plain loop in a fresh process",
    "first call in a fresh process",
    "import, connect and discover in a fresh process",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def guarded(results: Results, stack: str, rows: list[tuple[str, str]], body: Callable) -> None:
    """Run ``body``; on any failure mark the given (row, metric) cells as failed."""
    try:
        body()
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        for row, name in rows:
            results.metrics[(row, name)].fail(stack, text)
        results.note(f"{stack}: rows {sorted({r for r, _ in rows})} failed: {text[:300]}")


class StackRun:
    """All selected workloads on one stack, in order, with RSS sampling during rows 1–4."""

    def __init__(self, stack: Stack, settings: Settings, rows: set[str], results: Results):
        self.stack, self.s, self.rows, self.results = stack, settings, rows, results
        self.label = stack.name
        self.deadline = time.monotonic() + settings.stack_budget

    def due(self, what: str) -> bool:
        """False (with a note) once this stack's time budget is used up: ``what`` is skipped."""
        if time.monotonic() < self.deadline:
            return True
        budget = self.s.stack_budget
        self.results.note(f"{self.label}: {what} skipped, the {budget:g} s budget was used up")
        return False

    def run(self) -> None:
        with self.stack:
            self.stack.start_backend(TOPIC)
            pool = ClientPool(self.stack.client_kind, self.stack.url, TOPIC, self.s)
            try:
                self._rows_1_to_5(pool)
                if "6" in self.rows and self.due("row 6"):
                    self.idle_connections(pool)
                if "3" in self.rows and self.label == "reference" and self.due("defaults row"):
                    self.reference_defaults()
            finally:
                pool.stop()
            if "7" in self.rows and self.due("row 7"):
                self.stack.stop_backends()
                self.fanout()

    def _rows_1_to_5(self, pool: ClientPool) -> None:
        with PeakRss() as rss:
            rss.watch("broker", self.stack.broker_pid)
            for backend_pid in list(self.stack.backend_pids):
                rss.watch("backend", backend_pid)
            guarded(self.results, self.label, [], lambda: self.warm_up(pool))
            if "1" in self.rows:
                self.echo(pool)
            if "2" in self.rows:
                self.add_threads(pool)
            if "3" in self.rows:
                self.grids(pool)
            if "4" in self.rows and self.due("row 4"):
                self.grid_argument(pool)
        if "5" in self.rows:
            for group in ("broker", "backend"):
                metric = self.results.metric("5", f"{group} peak RSS during 1–4", "MiB")
                metric.add(self.label, rss.peak.get(group, 0) / MiB)

    def warm_up(self, pool: ClientPool) -> None:
        """Connections, lazy imports (xarray, scipy) and caches, on both ends."""
        pool.sequential("echo", self.s.warmup, kwargs={"text": "hi"})
        pool.sequential("make_grid", 2, kwargs={"n": 8})
        pool.sequential("grid_mean", 2, grid_mb=0.001)

    def echo(self, pool: ClientPool) -> None:
        r, names = "1", ["echo p50", "echo p95", "echo p99", "echo calls/s"]
        metrics = [self.results.metric(r, n, "ms") for n in names[:3]]
        rate = self.results.metric(r, names[3], "calls/s", higher_is_better=True)
        fresh = [self.results.metric(r, n, "ms") for n in FRESH_METRICS]

        def body() -> None:
            for _ in range(self.s.echo_runs):
                answer = pool.sequential(
                    "echo", self.s.echo_calls, kwargs={"text": "hi"}, budget=self.s.echo_budget
                )
                lat = answer["latencies"]
                if len(lat) < self.s.echo_calls:
                    self.results.note(
                        f"{self.label}: an echo run stopped at its {self.s.echo_budget:g} s "
                        f"budget after {len(lat)} of {self.s.echo_calls} calls"
                    )
                for metric, q in zip(metrics, (50, 95, 99), strict=True):
                    metric.add(self.label, percentile(lat, q) * 1000)
                rate.add(self.label, len(lat) / sum(lat))
                self._fresh_process_echo(fresh)

        guarded(self.results, self.label, [(r, n) for n in [*names, *FRESH_METRICS]], body)

    def _fresh_process_echo(self, metrics: list) -> None:
        """The plain loop of :mod:`benchmarks.user_loop` in a new process, right after."""
        calls, budget = str(self.s.echo_calls), str(self.s.echo_budget)
        args = ["-m", "benchmarks.user_loop", self.stack.client_kind, self.stack.url, TOPIC]
        child = ChildProcess([*args, calls, budget], f"{self.label}-user-loop")
        try:
            answer = child.answer(timeout=CLIENT_START_TIMEOUT + self.s.echo_budget * 2)
        finally:
            child.stop()
        p50, first, connect = metrics
        p50.add(self.label, percentile(answer["latencies"], 50) * 1000)
        first.add(self.label, answer["first_call_s"] * 1000)
        connect.add(self.label, answer["connect_s"] * 1000)

    def add_threads(self, pool: ClientPool) -> None:
        name = f"{self.s.add_threads} threads × {self.s.add_calls} add()"
        metric = self.results.metric("2", name, "calls/s", higher_is_better=True)

        def body() -> None:
            for _ in range(self.s.add_runs):
                kwargs = {"a": 2, "b": 3}
                rate, errors, first = pool.threaded(
                    "add",
                    self.s.add_threads,
                    self.s.add_calls,
                    kwargs=kwargs,
                    budget=self.s.add_budget,
                )
                metric.add(self.label, rate)
                if errors:
                    metric.fail(self.label, f"{errors} calls failed: {first}")

        guarded(self.results, self.label, [("2", name)], body)

    def grids(self, pool: ClientPool) -> None:
        for mb in self.s.grid_mb:
            if not self.due(f"make_grid {mb:g} MB"):
                continue
            runs = self.s.grid_runs if mb <= 20 else self.s.mid_grid_runs
            self._grid(pool, mb, self.s.big_grid_runs if mb > 100 else runs)

    def _grid(self, pool: ClientPool, mb: float, runs: int) -> None:
        n = grid_side(mb)
        seconds = self.results.metric("3", f"make_grid {mb:g} MB result: time", "s")
        speed = self.results.metric("3", f"make_grid {mb:g} MB result: rate", "MB/s", True)

        if self.label == "reference" and mb > self.s.ref_max_grid_mb:
            why = "takes > 4 min here (run with --ref-big)"
            seconds.skip(self.label, why)
            speed.skip(self.label, why)
            return

        def body() -> None:
            started = time.monotonic()
            for _ in range(runs):
                if time.monotonic() - started > self.s.repeat_budget:
                    break
                answer = pool.sequential("make_grid", 1, kwargs={"n": n})
                elapsed = answer["latencies"][0]
                seconds.add(self.label, elapsed)
                speed.add(self.label, n * n * 8 / 1e6 / elapsed)

        guarded(self.results, self.label, [("3", seconds.name), ("3", speed.name)], body)

    def grid_argument(self, pool: ClientPool) -> None:
        mb = self.s.arg_mb
        what = f"grid_mean({mb:g} MB DataArray argument)"
        seconds = self.results.metric("4", f"{what}: time", "s")
        speed = self.results.metric("4", f"{what}: rate", "MB/s", True)

        def body() -> None:
            started = time.monotonic()
            for _ in range(self.s.arg_runs):
                if time.monotonic() - started > self.s.repeat_budget:
                    break
                answer = pool.sequential("grid_mean", 1, grid_mb=mb)
                elapsed = answer["latencies"][0]
                seconds.add(self.label, elapsed)
                speed.add(self.label, grid_side(mb) ** 2 * 8 / 1e6 / elapsed)

        guarded(self.results, self.label, [("4", seconds.name), ("4", speed.name)], body)

    def idle_count(self) -> int:
        if self.label == "reference":
            return min(self.s.idle_connections, self.s.ref_idle_connections)
        return self.s.idle_connections

    def idle_connections(self, pool: ClientPool) -> None:
        per_conn = self.results.metric("6", "broker RSS per idle connection", "KiB")
        held = self.results.metric("6", "idle connections held", "count", True)
        base = self.results.metric("6", "echo p50 without idle connections (just before)", "ms")
        lat = self.results.metric("6", "echo p50 while they are held", "ms")
        keys = [("6", m.name) for m in (per_conn, held, base, lat)]
        guarded(
            self.results, self.label, keys, lambda: self._idle(pool, per_conn, held, base, lat)
        )

    def _idle_echo_p50(self, pool: ClientPool) -> float:
        answer = pool.sequential(
            "echo", self.s.idle_echo_calls, kwargs={"text": "hi"}, budget=self.s.idle_echo_budget
        )
        return percentile(answer["latencies"], 50) * 1000

    def _idle(self, pool: ClientPool, per_conn, held, base, lat) -> None:
        base.add(self.label, self._idle_echo_p50(pool))
        before = settled_rss(self.stack.broker_pid)
        count = self.idle_count()
        shares = [min(IDLE_PER_HOLDER, count - i) for i in range(0, count, IDLE_PER_HOLDER)]
        url = self.stack.idle_url(TOPIC)
        holders = [
            ChildProcess(["-m", "benchmarks.idle_holder", url, str(share)], f"{self.label}-idle")
            for share in shares
        ]
        try:
            opened = [holder.answer(timeout=IDLE_OPEN_TIMEOUT) for holder in holders]
            refused = sum(o["errors"] for o in opened)
            if refused:
                first = next(o["error"][0] for o in opened if o["error"])
                held.fail(self.label, f"{refused} refused: {first}")
            open_now = sum(o["open"] for o in opened)
            time.sleep(1.0)  # let the broker finish its per-connection set-up
            after = settled_rss(self.stack.broker_pid)
            held.add(self.label, open_now)
            if open_now:
                per_conn.add(self.label, max(after - before, 0) / open_now / KiB)
            lat.add(self.label, self._idle_echo_p50(pool))
        finally:
            for holder in holders:
                holder.stop()

    def reference_defaults(self) -> None:
        """The reference with demessaging's default payload limit: the 1 MB result fails."""
        name = "make_grid 1 MB, reference with default limits"
        metric = self.results.metric("3", name, "s")

        def body() -> None:
            self.stack.start_backend(DEFAULTS_TOPIC, tuned=False)
            pool = ClientPool("ref", self.stack.url, DEFAULTS_TOPIC, self.s)
            try:
                answer = pool.sequential("make_grid", 1, kwargs={"n": grid_side(1)})
                metric.add(self.label, answer["latencies"][0])
            finally:
                pool.stop()

        guarded(self.results, self.label, [("3", name)], body)

    def fanout(self) -> None:
        s = self.s
        name = f"{s.fanout_replicas} replicas, {s.fanout_threads} threads × {s.fanout_calls} add()"
        metric = self.results.metric("7", name, "calls/s", higher_is_better=True)

        def body() -> None:
            for _ in range(s.fanout_replicas):
                self.stack.start_backend(FANOUT_TOPIC, subscription=SHARED_SUBSCRIPTION)
            pool = ClientPool(self.stack.client_kind, self.stack.url, FANOUT_TOPIC, s)
            try:
                pool.sequential("add", s.warmup, kwargs={"a": 1})
                started = time.monotonic()
                for _ in range(s.fanout_runs):
                    if time.monotonic() - started > s.repeat_budget:
                        break
                    rate, errors, first = pool.threaded(
                        "add",
                        s.fanout_threads,
                        s.fanout_calls,
                        kwargs={"a": 2, "b": 3},
                        budget=s.fanout_budget,
                    )
                    metric.add(self.label, rate)
                    if errors:
                        metric.fail(self.label, f"{errors} calls failed: {first}")
            finally:
                pool.stop()

        guarded(self.results, self.label, [("7", name)], body)


def settled_rss(pid: int, samples: int = 5) -> int:
    """Median of a few RSS samples, so one allocation burst does not skew a difference."""
    values = []
    for _ in range(samples):
        values.append(tree_rss(pid))
        time.sleep(0.1)
    return int(statistics.median(values))
