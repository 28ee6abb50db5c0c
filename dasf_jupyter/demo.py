"""The main job on the embedded default: broker, backend module and client on one machine.

Run with ``python -m dasf_jupyter.demo`` (README: ``bash scripts/demo.sh``). It starts our
broker on 127.0.0.1 (port 8765 if free), serves :mod:`dasf_jupyter.examples.climate` as the
backend module ``climate``, discovers it with the client and calls every function.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _progress_bar(report: dict) -> None:
    fraction = report.get("fraction")
    message = report.get("step_message", "")
    if isinstance(fraction, (int, float)):
        filled = int(30 * fraction)
        sys.stdout.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] {message:<24}")
        sys.stdout.flush()


def run(port: int | None) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="dasf-demo-") as data_dir,
        BrokerProcess(port=port, data_dir=data_dir) as broker,
    ):
        print(f"broker        {broker.url}  (embedded: SQLite + in-memory channel layer)")
        module = BackendModule.from_path("dasf_jupyter.examples.climate", topic="climate")
        with module.serve_in_background(broker.url):
            print("backend       topic 'climate' served from dasf_jupyter.examples.climate")
            with connect(broker.url, timeout=60) as conn:
                climate = conn.module("climate")
                print(f"discovered    {', '.join(dir(climate))}")
                print(f"signature     make_grid{climate.make_grid.__signature__}")
                print(f"add(2, 3)     = {climate.add(2, 3)}")
                grid = climate.make_grid(6)
                print(f"make_grid(6)  → {type(grid).__module__}.{type(grid).__name__}")
                print(grid)
                anomaly = climate.anomaly(grid)
                print(f"anomaly(grid) → max |anomaly| = {float(abs(anomaly).max()):.3g} K")
                print("slow_mean     with progress:")
                future = climate.slow_mean.submit(
                    [1.0, 2.0, 3.0, 4.0, 5.0], on_progress=_progress_bar
                )
                mean = future.result(timeout=60)
                print(f"\n  = {mean}")
    print("done: broker, backend module and client stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="broker port (default 8765)")
    args = parser.parse_args(argv)
    port = args.port or (8765 if _port_free(8765) else None)
    run(port)


if __name__ == "__main__":
    main()
