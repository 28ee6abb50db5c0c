"""Calls through a Redis+PostgreSQL broker pair: replicas on broker A and B, caller on B.

``python -m benchmarks.scaleout [--calls 300] [--big 5]`` (needs PostgreSQL and Redis, as
the scale-out tests). Measures what issue 14's guarantees cost in the Redis hub: the rate
of sequential small calls (each request is recorded in Redis while in flight), the time of
3 MB requests to two replicas on one subscription (fragment affinity), and how long after a
``kill -9`` of broker A a caller on B is told ``BackendDisconnected``.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import FIRST_EXCEPTION, wait
from pathlib import Path

from dasf_jupyter.client import connect
from dasf_jupyter.errors import RemoteError
from tests.brokerfixtures import scaled_out_brokers
from tests.reliability.processes import BackendProcess, executions

BIG = "x" * 3_000_000


def run(calls: int, big: int) -> dict[str, float]:
    """Run the three measurements; return them by name."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        topic, count_file = f"bench-{secrets.token_hex(4)}", tmp_path / "count.txt"
        subscription = f"replicas-{secrets.token_hex(4)}"
        with scaled_out_brokers(tmp_path, "bench") as (a, b):
            replicas = [
                BackendProcess(url, topic, count_file, 4, subscription, f"replica{i}.log")
                for i, url in enumerate((a.url, b.url))
            ]
            try:
                for replica in replicas:
                    replica.start()
                with connect(b.url, timeout=60) as conn:
                    conn.api_info(topic)
                    for _ in range(20):  # warm up
                        conn.call(topic, {"func_name": "echo", "tag": "warm", "data": ""})
                    start = time.perf_counter()
                    for _ in range(calls):
                        conn.call(topic, {"func_name": "echo", "tag": "small", "data": "x"})
                    out["small calls/s"] = calls / (time.perf_counter() - start)
                    times = []
                    for i in range(big):
                        start = time.perf_counter()
                        conn.call(topic, {"func_name": "size", "tag": f"big{i}", "data": BIG})
                        times.append(time.perf_counter() - start)
                    if times:
                        out["3 MB request to 2 replicas, median s"] = statistics.median(times)
                    counts = executions(count_file)
                    assert all(counts[f"big{i}"] == 1 for i in range(big)), counts
                    # slow calls on both replicas; those on A's fail when A dies
                    futures = [
                        conn.submit(topic, {"func_name": "slow", "tag": "slow", "seconds": 30})
                        for _ in range(6)
                    ]
                    deadline = time.monotonic() + 30
                    while executions(count_file)["slow"] < 6 and time.monotonic() < deadline:
                        time.sleep(0.05)
                    killed = time.monotonic()
                    a.kill()
                    done, _ = wait(futures, timeout=30, return_when=FIRST_EXCEPTION)
                    if any(isinstance(f.exception(), RemoteError) for f in done):
                        out["BackendDisconnected after kill -9, s"] = time.monotonic() - killed
            finally:
                for replica in replicas:
                    replica.kill()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="sequential small calls")
    parser.add_argument("--big", type=int, default=5, help="3 MB requests")
    args = parser.parse_args(argv)
    for name, value in run(args.calls, args.big).items():
        print(f"{name}: {value:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
