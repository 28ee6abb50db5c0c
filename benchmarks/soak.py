"""Soak: N clients x M calls over 2 brokers to 2 module replicas, one replica killed mid-run.

``python -m benchmarks.soak [--clients 16] [--calls 500] [--max-size 1048576]`` runs on a
Redis/PostgreSQL broker pair (both on 127.0.0.1, fresh database and key prefix) with two
``dasf serve`` replicas, one on each broker, sharing the default subscription; clients
alternate between the brokers. ``--brokers 1 --replicas 1`` is the single-broker form,
``--tiny`` a few seconds' run. ``tests/reliability/test_soak.py`` runs short forms in CI.

Every call is counted: it either returns its own payload or raises a DasfError; each replica
logs each execution to its own file, so a request run twice (forbidden: delivery is at most
once), a result without an execution, and how the replicas shared the calls are all found.
The run is bounded: ``clients x calls`` calls, no new call after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import random
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect
from dasf_jupyter.errors import DasfError, ModuleNotServed, RemoteError
from tests.reliability.processes import BackendProcess, executions

MB = 1 << 20
#: the outcome of a call a client never started because the run's time was up
NOT_STARTED = "not started (time limit)"


@dataclass
class SoakReport:
    """What happened to every call, per replica, and the brokers' memory around the run."""

    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    ok_tags: set[str] = field(default_factory=set)
    failed_tags: set[str] = field(default_factory=set)
    executions: collections.Counter[str] = field(default_factory=collections.Counter)
    #: executions of the soak's calls per replica (warm-up excluded)
    per_replica: list[int] = field(default_factory=list)
    calls: int = 0
    brokers: int = 1
    not_served_retries: int = 0
    seconds: float = 0.0
    #: summed over the brokers
    rss_baseline: int = 0
    rss_peak: int = 0
    rss_after: int = 0

    @property
    def run_twice(self) -> list[str]:
        return sorted(tag for tag, n in self.executions.items() if n > 1)

    @property
    def ok_not_run(self) -> list[str]:
        return sorted(tag for tag in self.ok_tags if self.executions[tag] != 1)

    @property
    def unaccounted(self) -> int:
        """Calls with no outcome at all (a client hung): lost silently."""
        return self.calls - sum(self.outcomes.values())

    @property
    def failed_but_ran(self) -> int:
        """Calls that raised an error although they ran (allowed: ``BackendDisconnected``)."""
        return sum(1 for tag in self.failed_tags if self.executions[tag])

    def summary(self) -> str:
        return (
            f"{self.calls} calls over {self.brokers} broker(s) to "
            f"{len(self.per_replica)} replica(s) in {self.seconds:.1f} s: "
            f"{dict(self.outcomes)} ({self.not_served_retries} retries while not served); "
            f"executions {sum(self.executions.values())}, per replica {self.per_replica}; "
            f"unaccounted (lost silently): {self.unaccounted}; run twice: "
            f"{len(self.run_twice)}; ok without exactly one execution: {len(self.ok_not_run)}; "
            f"failed but ran: {self.failed_but_ran}; broker RSS (sum) baseline "
            f"{self.rss_baseline / MB:.0f} MB, peak {self.rss_peak / MB:.0f} MB, "
            f"after {self.rss_after / MB:.0f} MB"
        )

    def problems(self) -> list[str]:
        """Everything that breaks the delivery semantics (empty when the soak passed)."""
        found = [f"run twice: {t}" for t in self.run_twice]
        found += [f"ok but executed {self.executions[t]} times: {t}" for t in self.ok_not_run]
        found += [o for o in self.outcomes if o.startswith(("CRASH", "WRONG"))]
        if self.unaccounted:
            found.append(f"{self.unaccounted} calls without an outcome")
        return found


def _client(url, topic, calls, sizes, index, report, lock, progress, stop_at) -> None:
    rnd = random.Random(index)
    with connect(url, timeout=60) as conn:
        for j in range(calls):
            tag = f"c{index}-{j}"
            data = "x" * rnd.choice(sizes)
            deadline, retries = time.monotonic() + 60, 0
            while True:
                if time.monotonic() > stop_at:
                    outcome = NOT_STARTED
                    break
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
                except RemoteError as exc:
                    outcome = f"error RemoteError {exc.exc_type}"
                except DasfError as exc:
                    outcome = f"error {type(exc).__name__}"
                except Exception as exc:  # anything else is a bug the soak must report
                    outcome = f"CRASH {type(exc).__name__}: {exc}"
                break
            with lock:
                report.outcomes[outcome] += 1
                report.not_served_retries += retries
                if outcome != NOT_STARTED:
                    (report.ok_tags if outcome == "ok" else report.failed_tags).add(tag)
                progress[0] += 1


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def _sample_rss(procs: list[psutil.Process], report: SoakReport, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        report.rss_peak = max(report.rss_peak, _rss(procs))


def _warm_up(url: str, topic: str, replicas: list[BackendProcess], calls: int = 20) -> None:
    """At least ``calls`` calls, and until every replica has run one (all are connected)."""
    deadline = time.monotonic() + 60
    with connect(url, timeout=60) as conn:
        n = 0
        while n < calls or not all(executions(r.count_file) for r in replicas):
            if time.monotonic() > deadline:
                raise TimeoutError("not every replica took a call within 60 s of warm-up")
            n += 1
            conn.call(topic, {"func_name": "echo", "tag": "warmup", "data": "x" * 100_000})


def run_soak(
    brokers: BrokerProcess | Sequence[BrokerProcess],
    work_dir: Path,
    clients: int = 4,
    calls: int = 40,
    sizes: tuple[int, ...] = (10, 10_000, 100_000, 256_000),
    restart_after: float = 0.3,
    replicas: int = 1,
    max_seconds: float = 600.0,
) -> SoakReport:
    """Run the soak; kill and restart the first replica after ``restart_after`` of the calls.

    Replica ``i`` and client ``i`` use broker ``i % len(brokers)``.
    """
    pool = [brokers] if isinstance(brokers, BrokerProcess) else list(brokers)
    topic = f"soak-{secrets.token_hex(4)}"
    report = SoakReport(calls=clients * calls, brokers=len(pool))
    procs = [psutil.Process(b.process.pid) for b in pool]
    backends = [
        BackendProcess(pool[i % len(pool)].url, topic, Path(work_dir) / f"{topic}-{i}.txt")
        for i in range(replicas)
    ]
    try:
        for backend in backends:
            backend.start()
        _warm_up(pool[0].url, topic, backends)  # warms up the brokers before the baseline
        report.rss_baseline = report.rss_peak = _rss(procs)
        lock, progress, stop = threading.Lock(), [0], threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(procs, report, stop), daemon=True)
        sampler.start()
        started = time.monotonic()
        stop_at = started + max_seconds
        threads = [
            threading.Thread(
                target=_client,
                args=(
                    pool[i % len(pool)].url,
                    topic,
                    calls,
                    sizes,
                    i,
                    report,
                    lock,
                    progress,
                    stop_at,
                ),
                daemon=True,
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        while progress[0] < restart_after * report.calls and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        backends[0].kill()  # a crash: calls in flight must fail clearly, none may run twice
        backends[0].start()
        for thread in threads:
            thread.join(max(1.0, stop_at - time.monotonic()) + 120)
        report.seconds = time.monotonic() - started
        stop.set()
        sampler.join(5)
        time.sleep(2.0)  # let the brokers drop closed sockets and their queues
        report.rss_after = _rss(procs)
    finally:
        for backend in backends:
            backend.stop()
    per_replica = [executions(b.count_file) for b in backends]
    for counts in per_replica:
        del counts["warmup"]
        report.executions.update(counts)
    report.per_replica = [sum(counts.values()) for counts in per_replica]
    return report


@contextlib.contextmanager
def broker_pool(count: int, work: Path) -> Iterator[list[BrokerProcess]]:
    """One broker, or a Redis/PostgreSQL pair on 127.0.0.1 (fresh database and prefix)."""
    if count == 1:
        with BrokerProcess(data_dir=work / "broker") as broker:
            yield [broker]
        return
    if count != 2:
        raise SystemExit("--brokers must be 1 or 2")
    from tests.brokerfixtures import scaled_out_brokers
    from tests.conftest import port_open

    missing = [
        n for n, p in (("PostgreSQL", 5432), ("Redis", 6379)) if not port_open("127.0.0.1", p)
    ]
    if missing:
        raise SystemExit(f"--brokers 2 needs {' and '.join(missing)} on 127.0.0.1")
    with scaled_out_brokers(work, "soak") as pair:
        yield list(pair)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--calls", type=int, default=500, help="calls per client")
    parser.add_argument("--max-size", type=int, default=MB, help="largest payload (chars)")
    parser.add_argument("--brokers", type=int, default=2, help="1, or 2 (Redis+PostgreSQL)")
    parser.add_argument("--replicas", type=int, default=2, help="dasf serve processes")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="no new call after")
    parser.add_argument("--tiny", action="store_true", help="4 clients x 20 calls, 100 KB")
    args = parser.parse_args(argv)
    if args.tiny:
        args.clients, args.calls, args.max_size = 4, 20, 100_000
    sizes = tuple(s for s in (10, 1_000, 10_000, 100_000, 500_000, MB) if s <= args.max_size)
    with tempfile.TemporaryDirectory() as work, broker_pool(args.brokers, Path(work)) as pool:
        report = run_soak(
            pool,
            Path(work),
            args.clients,
            args.calls,
            sizes,
            replicas=args.replicas,
            max_seconds=args.max_seconds,
        )
    print(report.summary())
    problems = report.problems()
    if problems:
        print(f"PROBLEMS: {problems[:20]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
