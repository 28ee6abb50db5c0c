"""Per-MB CPU cost of each step a large DataArray takes on the wire, measured in isolation.

Usage: ``python -m benchmarks.costs [--mb 50]``. The steps are those of the reference's wire
form (netCDF3 → base64 → JSON string → base64 → JSON frame → websocket), which our stack
keeps for compatibility; the numbers bound what any implementation of that format can reach.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable

from websockets.speedups import apply_mask
from websockets.sync.client import connect
from websockets.sync.server import serve

from benchmarks.workloads import build_grid, grid_side

REPEATS = 3


def timed(step: Callable[[], object]) -> float:
    """Median seconds of a few runs of ``step``."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def websocket_round_trip(data: str | bytes) -> float:
    """Seconds to send ``data`` to a loopback websockets server and get 1 byte back."""

    def handler(ws) -> None:
        for _message in ws:
            ws.send(b"k")

    with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        with connect(f"ws://127.0.0.1:{port}", max_size=None, compression=None) as ws:

            def step() -> None:
                ws.send(data)
                ws.recv(timeout=120)

            seconds = timed(step)
        server.shutdown()
        thread.join(timeout=10)
    return seconds


def measure(mb: float) -> list[tuple[str, float, int]]:
    """(step, seconds, bytes handled) for a grid of ``mb`` MB."""
    import xarray as xr

    grid = build_grid(grid_side(mb))
    netcdf = bytes(grid.to_netcdf(format="NETCDF3_CLASSIC", engine="scipy"))
    inner = base64.b64encode(netcdf)
    as_json = json.dumps(inner.decode("ascii"))
    outer = base64.b64encode(as_json.encode())
    frame = json.dumps({"payload": outer.decode("ascii"), "properties": {}})
    mask = os.urandom(4)
    return [
        (
            "netCDF3 write (to_netcdf, scipy)",
            timed(lambda: grid.to_netcdf(format="NETCDF3_CLASSIC", engine="scipy")),
            len(netcdf),
        ),
        (
            "netCDF3 read (open_dataarray.load)",
            timed(lambda: xr.open_dataarray(io.BytesIO(netcdf), engine="scipy").load()),
            len(netcdf),
        ),
        ("base64 encode (netCDF → text)", timed(lambda: base64.b64encode(netcdf)), len(netcdf)),
        (
            "base64 decode (str input)",
            timed(lambda: base64.b64decode(inner.decode("ascii"))),
            len(inner),
        ),
        ("base64 decode (bytes input)", timed(lambda: base64.b64decode(inner)), len(inner)),
        (
            "json.dumps of the base64 string",
            timed(lambda: json.dumps(inner.decode("ascii"))),
            len(inner),
        ),
        (
            "json.dumps, ensure_ascii=False",
            timed(lambda: json.dumps(inner.decode("ascii"), ensure_ascii=False)),
            len(inner),
        ),
        ("json.loads of that string", timed(lambda: json.loads(as_json)), len(as_json)),
        (
            "outer base64 encode (payload)",
            timed(lambda: base64.b64encode(as_json.encode())),
            len(as_json),
        ),
        (
            "frame json.dumps (payload inside)",
            timed(lambda: json.dumps({"payload": outer.decode(), "p": {}})),
            len(frame),
        ),
        ("frame json.loads", timed(lambda: json.loads(frame)), len(frame)),
        ("str → UTF-8 bytes (frame)", timed(lambda: frame.encode()), len(frame)),
        (
            "websocket mask (speedups.apply_mask)",
            timed(lambda: apply_mask(netcdf, mask)),
            len(netcdf),
        ),
        ("websocket loopback, text frame", websocket_round_trip(frame), len(frame)),
        ("websocket loopback, binary netCDF", websocket_round_trip(netcdf), len(netcdf)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.costs", description=__doc__)
    parser.add_argument("--mb", type=float, default=50)
    args = parser.parse_args(argv)
    rows = measure(args.mb)
    print(f"| step ({args.mb:g} MB grid) | s | ms per MB handled | MB/s |")
    print("| --- | --- | --- | --- |")
    for name, seconds, size in rows:
        mb = size / 1e6
        print(f"| {name} | {seconds:.3f} | {seconds / mb * 1000:.1f} | {mb / seconds:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
