"""Where each microsecond goes: py-spy raw stacks of a profile run, summed per call.

Usage: ``python -m benchmarks.profile_summary [DIR]`` (default: the directory
``python -m benchmarks.profile`` writes). Reads ``run.json`` (workload, calls, wall time) and
one raw collapsed-stack file per process, and prints, per process, a markdown table of CPU
microseconds per call (measured CPU time, split in proportion to the samples of threads
holding the GIL) by part of the stack (the file of the innermost frame, grouped: asyncio
loop, selectors/epoll, websockets, uvicorn, Django/Channels, asgiref, threading, our modules,
...) and the top functions by self time. This is what benchmarks/README.md keeps.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 1000  #: py-spy samples per second: samples / rate = seconds on the CPU
DEFAULT_DIR = Path(tempfile.gettempdir()) / "dasf-prof"
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")

#: (substring of the frame's file path, part); the first match wins
PARTS: tuple[tuple[str, str], ...] = (
    ("/asyncio/", "asyncio event loop"),
    ("/uvloop/", "asyncio event loop"),
    ("selectors.py", "selectors (epoll)"),
    ("/uvicorn/", "uvicorn"),  # before websockets: uvicorn/protocols/websockets/...
    ("/websockets/", "websockets"),
    ("/channels/", "Django Channels"),
    ("/asgiref/", "asgiref (sync_to_async, ...)"),
    ("/django/", "Django"),
    ("/json/", "json"),
    ("threading.py", "threading (locks, conditions)"),
    ("/concurrent/", "concurrent.futures"),
    ("queue.py", "queue"),
    ("socket.py", "socket"),
    ("/xarray/", "xarray / numpy / scipy"),
    ("/numpy/", "xarray / numpy / scipy"),
    ("/scipy/", "xarray / numpy / scipy"),
    ("/dasf_jupyter/", "dasf_jupyter"),
    ("/benchmarks/", "benchmark harness"),
)


def part_of(path: str) -> str:
    """The part of the stack a frame's file belongs to (ours by subpackage)."""
    normal = path.replace("\\\\", "/")
    if "/dasf_jupyter/" in normal:
        sub = normal.split("/dasf_jupyter/", 1)[1].split("/")
        return f"dasf_jupyter.{sub[0].removesuffix('.py')}"
    for needle, part in PARTS:
        if needle in normal:
            return part
    return "other: " + Path(normal).name if normal else "other"


@dataclass
class ProcessProfile:
    """Samples of one process: by part and by function (self time of the innermost frame)."""

    name: str
    samples: int
    parts: collections.Counter[str]
    functions: collections.Counter[str]

    @classmethod
    def read(cls, name: str, raw: Path) -> ProcessProfile:
        parts: collections.Counter[str] = collections.Counter()
        functions: collections.Counter[str] = collections.Counter()
        total = 0
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            match = FRAME.match(stack.split(";")[-1])
            path = match["file"] if match else ""
            func = f"{match['func']} ({Path(path).name})" if match else stack.split(";")[-1]
            parts[part_of(path)] += int(count)
            functions[func] += int(count)
            total += int(count)
        return cls(name, total, parts, functions)

    @property
    def cpu_seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def table(self, calls: int, cpu: float | None = None, top: int = 8) -> str:
        """Markdown: µs per call by part, then the top functions.

        With ``cpu`` (the process's measured CPU seconds) the parts share that time in
        proportion to their samples; without it, the samples' own time is used.
        """
        cpu = self.cpu_seconds if cpu is None else cpu
        per_call = cpu * 1e6 / max(calls, 1) / max(self.samples, 1)
        lines = [
            f"**{self.name}**: {cpu * 1e6 / max(calls, 1):,.0f} µs CPU per call "
            f"({cpu:.2f} s measured, {self.cpu_seconds:.2f} s in samples holding the GIL)",
            "",
            "| part | µs per call | share |",
            "| --- | --- | --- |",
        ]
        for part, count in self.parts.most_common():
            share = count / self.samples
            if share >= 0.01:
                lines.append(f"| {part} | {count * per_call:,.0f} | {share:.0%} |")
        lines += [
            "",
            f"top {top} functions (self time): "
            + "; ".join(
                f"`{func}` {count / self.samples:.0%}"
                for func, count in self.functions.most_common(top)
            ),
        ]
        return "\n".join(lines)


def summary(directory: Path) -> str:
    """The markdown of one profile run directory."""
    run = json.loads((directory / "run.json").read_text())
    head = (
        f"`python -m benchmarks.profile --workload {run['workload']} --stack {run['stack']}`: "
        f"{run['calls']:,} calls in {run['seconds']:.2f} s wall "
        f"({run['seconds'] / max(run['calls'], 1) * 1e6:,.0f} µs per call), load average "
        f"{run['load']}"
    )
    blocks = [head]
    for name in run["processes"]:
        raw = directory / f"{name}.txt"
        if raw.exists():
            cpu = run.get("cpu", {}).get(name)
            blocks.append(ProcessProfile.read(name, raw).table(run["calls"], cpu))
    return "\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_summary")
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    print(summary(args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
