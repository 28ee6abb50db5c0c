"""``python -m benchmarks [--quick] [--only ROWS] [--stacks S] [--out FILE]``: one table.

Stacks: ours, the floor (:mod:`benchmarks.floor`) and the reference, one after the other.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.idle_holder import raise_fd_limit
from benchmarks.results import Results
from benchmarks.runner import ALL_ROWS, StackRun
from benchmarks.settings import Settings
from benchmarks.stacks import FloorStack, OurStack, ReferenceStack

DEFAULT_OUT = Path(__file__).with_name("RESULTS.md")
STACKS = {"ours": OurStack, "floor": FloorStack, "reference": ReferenceStack}
FD_LIMIT = 20_000  #: inherited by every broker: room for row 6's idle sockets


def parse_rows(text: str | None) -> set[str]:
    """``"1,3,5"`` → ``{"1", "3", "5"}``; rejects unknown rows."""
    if not text:
        return set(ALL_ROWS)
    rows = {part.strip() for part in text.split(",") if part.strip()}
    unknown = rows - set(ALL_ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}; choose from {', '.join(ALL_ROWS)}")
    if "5" in rows:
        rows |= {"1"} if not rows & {"1", "2", "3", "4"} else set()
    return rows


def run(settings: Settings, rows: set[str], stacks: list[str]) -> Results:
    """Run the selected rows on each stack (in the order given) and collect the results."""
    results = Results()
    for name in stacks:
        started = time.monotonic()
        print(f"[bench] {name}: starting", file=sys.stderr, flush=True)
        try:
            StackRun(STACKS[name](), settings, rows, results).run()
        except Exception as exc:  # a stack that cannot even start is a result, not a crash
            results.note(f"{name}: stack failed: {type(exc).__name__}: {str(exc)[:400]}")
        print(f"[bench] {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return results


def header(mode: str, elapsed: float, load_before: str) -> str:
    """Title and the circumstances of the run."""
    return (
        f"## DASF benchmarks ({mode})\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; whole run {elapsed:.0f} s. "
        "Values: median (min–max, n runs). Reference = demessaging 0.6.4 client and backend "
        "through dasf-broker-django under daphne, payload limits raised to 1 GiB; ours = "
        "dasf_jupyter broker, backend and client with default settings; floor = bare "
        "`websockets` relay, backend and client (benchmarks/floor). Ours vs floor = ours ÷ "
        f"floor (1.00× = at the floor). Load average (1/5/15 min) before the run: "
        f"{load_before}, after it: {load()}."
    )


def load() -> str:
    """The 1/5/15-minute load averages (the machine may be shared)."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # smoke test
    parser.add_argument("--only", help="comma-separated rows, e.g. 1,3 (default: all)")
    parser.add_argument(
        "--stacks",
        default="ours,floor,reference",
        help="comma-separated, run in this order (default: ours,floor,reference)",
    )
    parser.add_argument(
        "--ref-big", action="store_true", help="also run the reference on grids above 100 MB"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    args = parser.parse_args(argv)
    settings = Settings()
    mode = "full"
    if args.quick:
        settings, mode = settings.quick(), "quick"
    if args.tiny:
        settings, mode = settings.tiny(), "tiny"
    if args.ref_big:
        settings = replace(settings, ref_max_grid_mb=float("inf"))
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    if not stacks or set(stacks) - set(STACKS):
        parser.error(f"--stacks takes some of {', '.join(STACKS)}")
    raise_fd_limit(FD_LIMIT)
    load_before, started = load(), time.monotonic()
    results = run(settings, parse_rows(args.only), stacks)
    text = results.markdown(header(mode, time.monotonic() - started, load_before))
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
