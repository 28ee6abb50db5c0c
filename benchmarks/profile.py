"""Profile one workload with py-spy attached to broker, backend and client.

Usage: ``python -m benchmarks.profile [--workload echo|threads8|grid|arg] [--stack ours|floor]
[--calls N] [--mb 50] [--dir DIR]``. Records py-spy raw collapsed stacks of each process
(samples of threads holding the GIL) into ``DIR/<process>.txt`` (for flame graphs), measures
each process's CPU time (psutil), writes ``DIR/run.json`` and prints the summary of
:mod:`benchmarks.profile_summary` (CPU µs per call, split by part of the stack).
py-spy must be installed (``bench`` extra) and allowed to ptrace the children.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from benchmarks.clients import ClientPool
from benchmarks.profile_summary import DEFAULT_DIR, SAMPLE_RATE, summary
from benchmarks.settings import Settings
from benchmarks.stacks import FloorStack, OurStack
from benchmarks.workloads import grid_side

STACKS = {"ours": OurStack, "floor": FloorStack}
THREADS = 8


def start_spy(pid: int, out: Path) -> subprocess.Popen:
    """``py-spy record`` on ``pid`` (and its children) writing collapsed stacks to ``out``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(SAMPLE_RATE)]
    cmd += ["--subprocesses", "--nonblocking", "--gil", "--full-filenames", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_spy(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def cpu_time(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children so far (psutil)."""
    proc = psutil.Process(pid)
    total = 0.0
    for one in [proc, *proc.children(recursive=True)]:
        times = one.cpu_times()
        total += times.user + times.system
    return total


def run_workload(pool: ClientPool, workload: str, mb: float, calls: int) -> tuple[float, int]:
    """Run the workload once; returns (wall seconds, calls made)."""
    if workload == "echo":
        latencies = pool.sequential("echo", calls, kwargs={"text": "hi"})["latencies"]
        return sum(latencies), len(latencies)
    if workload == "threads8":
        per_thread = max(1, calls // THREADS)
        rate, errors, first = pool.threaded("add", THREADS, per_thread, kwargs={"a": 2, "b": 3})
        if errors:
            raise RuntimeError(f"{errors} calls failed: {first}")
        return THREADS * per_thread / rate, THREADS * per_thread
    if workload == "arg":
        return pool.sequential("grid_mean", 1, grid_mb=mb)["latencies"][0], 1
    return pool.sequential("make_grid", 1, kwargs={"n": grid_side(mb)})["latencies"][0], 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    choices = ["echo", "threads8", "grid", "arg"]
    parser.add_argument("--workload", choices=choices, default="echo")
    parser.add_argument("--stack", choices=sorted(STACKS), default="ours")
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--calls", type=int, default=1000, help="echo calls, or 8-thread total")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    with STACKS[args.stack]() as stack:
        backend_pid = stack.start_backend("bench")
        pool = ClientPool(stack.client_kind, stack.url, "bench", Settings())
        try:
            client_pid = pool.ensure(1)[0].pid
            run_workload(pool, args.workload, 0.01, 50)  # warm-up: imports, sockets
            pids = {"broker": stack.broker_pid, "backend": backend_pid, "client": client_pid}
            spies = {name: start_spy(pid, args.dir / f"{name}.txt") for name, pid in pids.items()}
            try:
                before = {name: cpu_time(pid) for name, pid in pids.items()}
                seconds, calls = run_workload(pool, args.workload, args.mb, args.calls)
                cpu = {name: cpu_time(pid) - before[name] for name, pid in pids.items()}
            finally:
                for spy in spies.values():
                    stop_spy(spy)
        finally:
            pool.stop()
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    run = {"workload": args.workload, "stack": args.stack, "calls": calls, "seconds": seconds}
    run |= {"load": load, "processes": list(pids), "cpu": cpu}
    (args.dir / "run.json").write_text(json.dumps(run))
    print(summary(args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
