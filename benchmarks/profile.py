"""Profile our stack under one workload with py-spy attached to broker, backend and client.

Usage: ``python -m benchmarks.profile [--workload grid|echo|arg] [--mb 50] [--calls 300]``.
Prints, per process, the functions that were on the CPU most (self time, from py-spy's raw
collapsed stacks) and writes the raw stacks to ``--dir`` for flame graphs. py-spy must be
installed (``pip install py-spy``) and allowed to ptrace the children.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.clients import ClientPool
from benchmarks.settings import Settings
from benchmarks.stacks import OurStack
from benchmarks.workloads import grid_side

SAMPLE_RATE = 200  #: samples per second, so samples / rate = seconds on the CPU
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def start_spy(pid: int, out: Path) -> subprocess.Popen:
    """``py-spy record`` on ``pid`` (and its children) writing collapsed stacks to ``out``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(SAMPLE_RATE)]
    cmd += ["--subprocesses", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_spy(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def cpu_seconds(raw: Path) -> float:
    """Seconds on the CPU recorded in a py-spy raw file (all threads, active samples)."""
    lines = raw.read_text(errors="replace").splitlines()
    counts = [line.rpartition(" ")[2] for line in lines]
    return sum(int(c) for c in counts if c.isdigit()) / SAMPLE_RATE


def self_time(raw: Path, top: int = 15) -> list[tuple[str, float]]:
    """(leaf function, share of samples) from a py-spy raw file, largest first."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        match = FRAME.match(leaf)
        name = f"{match['func']} ({Path(match['file']).name})" if match else leaf
        counts[name] += int(count)
        total += int(count)
    return [(name, n / total) for name, n in counts.most_common(top)] if total else []


def run_workload(pool: ClientPool, workload: str, mb: float, calls: int) -> float:
    """Run the workload once; returns its wall time in seconds."""
    if workload == "echo":
        return sum(pool.sequential("echo", calls, kwargs={"text": "hi"})["latencies"])
    if workload == "arg":
        return pool.sequential("grid_mean", 1, grid_mb=mb)["latencies"][0]
    return pool.sequential("make_grid", 1, kwargs={"n": grid_side(mb)})["latencies"][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--workload", choices=["grid", "echo", "arg"], default="grid")
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dasf-prof")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    with OurStack() as stack:
        backend_pid = stack.start_backend("bench")
        pool = ClientPool("ours", stack.url, "bench", Settings())
        try:
            client_pid = pool.ensure(1)[0].pid
            run_workload(pool, args.workload, 0.01, 5)  # warm-up: imports, sockets
            pids = {"broker": stack.broker_pid, "backend": backend_pid, "client": client_pid}
            spies = {name: start_spy(pid, args.dir / f"{name}.txt") for name, pid in pids.items()}
            try:
                seconds = run_workload(pool, args.workload, args.mb, args.calls)
            finally:
                for spy in spies.values():
                    stop_spy(spy)
        finally:
            pool.stop()
    print(f"{args.workload} ({args.mb:g} MB / {args.calls} calls): {seconds:.2f} s")
    for name in pids:
        raw = args.dir / f"{name}.txt"
        print(f"\n{name}: {cpu_seconds(raw):.2f} s on the CPU; top self time")
        for func, share in self_time(raw):
            print(f"  {share:6.1%}  {func}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
