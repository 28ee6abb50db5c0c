"""Per-MB CPU cost of each step a large DataArray takes on the wire, measured in isolation.

Usage: ``python -m benchmarks.costs [--mb 50]``. The first steps are those of the reference's
wire form (netCDF3 → base64 → JSON string → base64 → JSON frame → websocket), which our stack
speaks with reference peers; the numbers bound what any implementation of that format can
reach. The last steps are those of our binary path between our own peers (netCDF3 → binary
body → raw fragments in binary frames, docs/binary-frames.md).
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
from dasf_jupyter.protocol.binary import (
    decode_binary_frame,
    encode_binary_frame,
    with_header_fields,
)
from dasf_jupyter.protocol.body import decode_body, encode_body_parts
from dasf_jupyter.protocol.fragments import DEFAULT_FRAGMENT_SIZE, split_parts

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


_HEADER = {"properties": {"messageType": "response", "requestContext": "1", "status": "success"}}


def binary_frames(netcdf: bytes) -> list[bytes]:
    """Backend side of the binary path: body parts → raw fragments → binary frames."""
    parts = encode_body_parts(b'"\\u0000dasf:0011223344556677:0"', [netcdf], b"\0" * 8)
    chunks = split_parts(parts, DEFAULT_FRAGMENT_SIZE)
    n = len(chunks)
    props = _HEADER["properties"]
    return [
        encode_binary_frame({"properties": {**props, "fragment": i, "num_fragments": n}}, c)
        for i, c in enumerate(chunks)
    ]


def broker_pass(frames: list[bytes]) -> list[bytes]:
    """What our broker does to each binary publish: add messageId/publishTime."""
    fields = {"messageId": "0" * 36, "publishTime": "2026-01-01T00:00:00+00:00"}
    return [with_header_fields(f, fields) for f in frames]


def client_pass(frames: list[bytes]) -> int:
    """Client side: read each frame, join the fragments, split the body."""
    body = b"".join(decode_binary_frame(f)[1] for f in frames)
    _json, _nonce, attachments = decode_body(body)
    return attachments[0].nbytes


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
    raw = binary_frames(netcdf)
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
        ("str → UTF-8 bytes (frame)", timed(frame.encode), len(frame)),
        (
            "websocket mask (speedups.apply_mask)",
            timed(lambda: apply_mask(netcdf, mask)),
            len(netcdf),
        ),
        ("websocket loopback, text frame", websocket_round_trip(frame), len(frame)),
        ("websocket loopback, binary netCDF", websocket_round_trip(netcdf), len(netcdf)),
        (
            "binary path, backend: body + fragments + binary frames",
            timed(lambda: binary_frames(netcdf)),
            len(netcdf),
        ),
        (
            "binary path, broker: messageId into each frame",
            timed(lambda: broker_pass(raw)),
            len(netcdf),
        ),
        (
            "binary path, client: frames → body → attachment",
            timed(lambda: client_pass(raw)),
            len(netcdf),
        ),
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
