"""What a user's process sees: a plain ``connect().module().echo()`` loop in a fresh process.

Usage: ``python -m benchmarks.user_loop URL TOPIC [CALLS]`` (a broker and a backend serving
:mod:`benchmarks.workloads` on ``TOPIC`` must be running), or ``python -m benchmarks.user_loop
--self [CALLS]`` to start our broker and backend first. Prints one JSON line: the time of
``connect()``, of ``module()``, of the first call (reported separately), and p50/p95/p99 of
the following calls. No harness between the loop and the stub: this is the number an
independent script gets, and what row 1 of ``python -m benchmarks`` is checked against.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list (as in :mod:`benchmarks.runner`)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, -(-int(q * len(ordered)) // 100) - 1))
    return ordered[index]


def user_loop(url: str, topic: str, calls: int) -> dict[str, Any]:
    """Connect, discover, call ``echo("hi")`` ``calls + 1`` times; timings in ms."""
    from dasf_jupyter.client import connect

    t0 = time.perf_counter()
    conn = connect(url)
    t1 = time.perf_counter()
    module = conn.module(topic)
    t2 = time.perf_counter()
    module.echo(text="hi")
    t3 = time.perf_counter()
    latencies = []
    for _ in range(calls):
        start = time.perf_counter()
        module.echo(text="hi")
        latencies.append(time.perf_counter() - start)
    conn.close()
    ms = [v * 1000 for v in latencies]
    return {
        "connect_ms": (t1 - t0) * 1000,
        "module_ms": (t2 - t1) * 1000,
        "first_call_ms": (t3 - t2) * 1000,
        "calls": calls,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": sum(ms) / len(ms),
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--self":
        from benchmarks.stacks import OurStack

        calls = int(argv[1]) if len(argv) > 1 else 300
        with OurStack() as stack:
            stack.start_backend("bench")
            print(json.dumps(user_loop(stack.url, "bench", calls)))
        return 0
    url, topic, *rest = argv
    print(json.dumps(user_loop(url, topic, int(rest[0]) if rest else 300)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
