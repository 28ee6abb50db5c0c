"""What a user's process sees: a plain call loop in a fresh process, no harness in between.

Usage: ``python -m benchmarks.user_loop {ours|floor|ref} URL TOPIC [CALLS [BUDGET]]`` (a broker
and a backend serving the workloads on ``TOPIC`` must run). Ours is exactly
``m = connect(url).module(topic)`` then ``m.echo(text="hi")`` in a loop. Prints one marked JSON
answer: the time to connect and discover, of the first call (reported separately), and the
latencies (ms) of the following calls. Row 1 of ``python -m benchmarks`` runs this once per
echo run next to its long-lived client worker, so both numbers come from the same minutes.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks.client_worker import CALLERS, reply


def user_loop(kind: str, url: str, topic: str, calls: int, budget: float) -> dict[str, Any]:
    """Connect, discover, then ``echo("hi")`` ``calls + 1`` times (fewer if over ``budget`` s)."""
    t0 = time.perf_counter()
    call = CALLERS[kind](url, topic)
    t1 = time.perf_counter()
    call("echo", {"text": "hi"})
    t2 = time.perf_counter()
    deadline = t2 + budget
    latencies = []
    for _ in range(calls):
        start = time.perf_counter()
        call("echo", {"text": "hi"})
        latencies.append(time.perf_counter() - start)
        if start > deadline:
            break
    return {"connect_s": t1 - t0, "first_call_s": t2 - t1, "latencies": latencies}


def main(argv: list[str]) -> int:
    kind, url, topic, *rest = argv
    calls = int(rest[0]) if rest else 300
    budget = float(rest[1]) if len(rest) > 1 else 60.0
    reply(user_loop(kind, url, topic, calls, budget))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
