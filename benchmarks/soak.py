"""Soak: N clients x M calls with mixed payload sizes while the backend is restarted once.

``python -m benchmarks.soak [--clients 16] [--calls 500] [--max-size 1048576]`` (long form);
``tests/reliability/test_soak.py`` runs a short form in CI. Every call is counted: it either
returns its own payload or raises a DasfError; the backend logs each execution to a file, so
a request run twice (forbidden: delivery is at most once) is found.
"""

from __future__ import annotations

import argparse
import collections
import random
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect
from dasf_jupyter.errors import DasfError, ModuleNotServed
from tests.reliability.processes import BackendProcess, executions

MB = 1 << 20


@dataclass
class SoakReport:
    """What happened to every call, and the broker's memory around the run."""

    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    ok_tags: set[str] = field(default_factory=set)
    failed_tags: set[str] = field(default_factory=set)
    executions: collections.Counter[str] = field(default_factory=collections.Counter)
    calls: int = 0
    not_served_retries: int = 0
    seconds: float = 0.0
    rss_baseline: int = 0
    rss_peak: int = 0
    rss_after: int = 0

    @property
    def run_twice(self) -> list[str]:
        return sorted(tag for tag, n in self.executions.items() if n > 1)

    @property
    def ok_not_run(self) -> list[str]:
        return sorted(tag for tag in self.ok_tags if self.executions[tag] != 1)

    def summary(self) -> str:
        return (
            f"{self.calls} calls in {self.seconds:.1f} s: {dict(self.outcomes)} "
            f"({self.not_served_retries} retries while not served); "
            f"run twice: {len(self.run_twice)}; broker RSS baseline "
            f"{self.rss_baseline / MB:.0f} MB, peak {self.rss_peak / MB:.0f} MB, "
            f"after {self.rss_after / MB:.0f} MB"
        )


def _client(url, topic, calls, sizes, index, report, lock, progress) -> None:
    rnd = random.Random(index)
    with connect(url, timeout=60) as conn:
        for j in range(calls):
            tag = f"c{index}-{j}"
            data = "x" * rnd.choice(sizes)
            deadline, retries = time.monotonic() + 60, 0
            while True:
                try:
                    value = conn.call(topic, {"func_name": "echo", "tag": tag, "data": data})
                    outcome = "ok" if value == data else "WRONG VALUE"
                except ModuleNotServed:
                    # documented as never delivered, so safe to retry (while the module restarts)
                    if time.monotonic() < deadline:
                        retries += 1
                        time.sleep(0.1)
                        continue
                    outcome = "error ModuleNotServed"
                except DasfError as exc:
                    outcome = f"error {type(exc).__name__}"
                except Exception as exc:  # anything else is a bug the soak must report
                    outcome = f"CRASH {type(exc).__name__}: {exc}"
                break
            with lock:
                report.outcomes[outcome] += 1
                report.not_served_retries += retries
                (report.ok_tags if outcome == "ok" else report.failed_tags).add(tag)
                progress[0] += 1


def _sample_rss(proc: psutil.Process, report: SoakReport, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        try:
            report.rss_peak = max(report.rss_peak, proc.memory_info().rss)
        except psutil.Error:
            pass


def run_soak(
    broker: BrokerProcess,
    work_dir: Path,
    clients: int = 4,
    calls: int = 40,
    sizes: tuple[int, ...] = (10, 10_000, 100_000, 256_000),
    restart_after: float = 0.3,
) -> SoakReport:
    """Run the soak against ``broker``; restart the backend after ``restart_after`` of calls."""
    topic = f"soak-{secrets.token_hex(4)}"
    count_file = Path(work_dir) / f"{topic}.txt"
    report = SoakReport(calls=clients * calls)
    proc = psutil.Process(broker.process.pid)
    backend = BackendProcess(broker.url, topic, count_file).start()
    try:
        with connect(broker.url) as conn:  # warm up the broker before the baseline
            for _ in range(20):
                conn.call(topic, {"func_name": "echo", "tag": "warmup", "data": "x" * 100_000})
        report.rss_baseline = report.rss_peak = proc.memory_info().rss
        lock, progress, stop = threading.Lock(), [0], threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(proc, report, stop), daemon=True)
        sampler.start()
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=_client,
                args=(broker.url, topic, calls, sizes, i, report, lock, progress),
                daemon=True,
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        while progress[0] < restart_after * report.calls and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        backend.kill()  # a crash: calls in flight must fail clearly, none may run twice
        backend.start()
        for thread in threads:
            thread.join(600)
        report.seconds = time.monotonic() - started
        stop.set()
        sampler.join(5)
        time.sleep(2.0)  # let the broker drop closed sockets and their queues
        report.rss_after = proc.memory_info().rss
    finally:
        backend.stop()
    report.executions = executions(count_file)
    del report.executions["warmup"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--calls", type=int, default=500, help="calls per client")
    parser.add_argument("--max-size", type=int, default=MB, help="largest payload (chars)")
    args = parser.parse_args(argv)
    sizes = tuple(s for s in (10, 1_000, 10_000, 100_000, 500_000, MB) if s <= args.max_size)
    with tempfile.TemporaryDirectory() as work, BrokerProcess() as broker:
        report = run_soak(broker, Path(work), args.clients, args.calls, sizes)
    print(report.summary())
    problems = report.run_twice + report.ok_not_run
    problems += [o for o in report.outcomes if o.startswith(("CRASH", "WRONG"))]
    if problems:
        print(f"PROBLEMS: {problems[:20]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
