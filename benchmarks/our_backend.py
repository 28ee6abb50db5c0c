"""Serve :mod:`benchmarks.workloads` with our ``BackendModule`` until stdin closes.

Usage: ``python -m benchmarks.our_backend URL TOPIC [SUBSCRIPTION]``; prints a ready mark
once connected to the broker (default settings otherwise).
"""

from __future__ import annotations

import sys

from benchmarks import workloads
from benchmarks.client_worker import reply
from dasf_jupyter.backend import BackendModule


def main(argv: list[str]) -> int:
    """Connect, announce readiness, serve until the parent closes our stdin."""
    url, topic, *rest = argv
    members = [workloads.echo, workloads.add, workloads.make_grid, workloads.grid_mean]
    module = BackendModule(topic, members, subscription=rest[0] if rest else None)
    handle = module.serve_in_background(url)
    reply({"ready": True})
    sys.stdin.read()  # returns at EOF: the parent is done (or gone)
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
