"""A long-lived client process driven over stdin/stdout, one per benchmark client.

Usage: ``python -m benchmarks.client_worker {ours|ref|floor} URL TOPIC``. Each stdin line is a JSON
command; each answer is one stdout line starting with :data:`RESULT_MARK`. Keeping the
process (and its connection) alive across calls measures calls, not interpreter start-up;
the parent kills it when an answer is late, because demessaging's client waits forever.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

RESULT_MARK = "@@bench-result "
CALL_TIMEOUT = 600.0  # our client's own deadline; the parent enforces tighter ones

Caller = Callable[[str, dict[str, Any]], Any]


def our_caller(url: str, topic: str) -> Caller:
    """Calls through our client: ``connect(url).module(topic).<func>(**kwargs)``."""
    from dasf_jupyter.client import connect

    module = connect(url, timeout=CALL_TIMEOUT).module(topic)

    def call(func: str, kwargs: dict[str, Any]) -> Any:
        return getattr(module, func)(**kwargs)

    return call


def ref_caller(url: str, topic: str) -> Caller:
    """Calls through demessaging's generated-client path: ``Model(request).compute()``."""
    from demessaging import BackendModule
    from demessaging.config import ModuleConfig, WebsocketURLConfig

    config = ModuleConfig(messaging_config=WebsocketURLConfig(topic=topic, websocket_url=url))
    model_cls = BackendModule.create_model("benchmarks.ref_workloads", config=config)

    def call(func: str, kwargs: dict[str, Any]) -> Any:
        returned = model_cls.model_validate({"func_name": func, **kwargs}).compute()
        return getattr(returned, "root", returned)

    return call


def floor_caller(url: str, topic: str) -> Caller:
    """Calls through the floor client (:mod:`benchmarks.floor.client`), same results."""
    from benchmarks.floor.client import FloorClient

    client = FloorClient(url, topic, timeout=CALL_TIMEOUT)

    def call(func: str, kwargs: dict[str, Any]) -> Any:
        if "grid" in kwargs:
            from benchmarks.floor.grids import grid_parts  # xarray: imported when needed

            grid_head, payload = grid_parts(kwargs["grid"])
            head, _ = client.call(func, {}, payload, **grid_head)
        else:
            head, body = client.call(func, kwargs)
            if "grid" in head:
                from benchmarks.floor.grids import grid_from

                return grid_from(head["grid"], body)
        return head["result"]

    return call


CALLERS = {"ours": our_caller, "ref": ref_caller, "floor": floor_caller}


def make_args(spec: dict[str, Any]) -> dict[str, Any]:
    """Call arguments; ``{"grid_mb": X}`` becomes a locally built DataArray argument."""
    from benchmarks.workloads import build_grid, grid_side

    kwargs = dict(spec.get("kwargs", {}))
    if "grid_mb" in spec:
        kwargs["grid"] = build_grid(grid_side(spec["grid_mb"]))
    return kwargs


def run_sequential(call: Caller, cmd: dict[str, Any]) -> dict[str, Any]:
    """Up to ``n`` calls one after the other (fewer if ``budget`` seconds run out)."""
    kwargs = make_args(cmd)
    deadline = time.perf_counter() + cmd.get("budget", float("inf"))
    latencies = []
    result = None
    for _ in range(cmd["n"]):
        start = time.perf_counter()
        result = call(cmd["func"], kwargs)
        latencies.append(time.perf_counter() - start)
        if start > deadline:
            break
    return {"latencies": latencies, "check": describe(result)}


def run_threads(call: Caller, cmd: dict[str, Any]) -> dict[str, Any]:
    """``threads`` threads each making up to ``n`` calls (until ``budget`` seconds are up)."""
    kwargs = make_args(cmd)
    errors: list[str] = []
    done = [0] * cmd["threads"]
    barrier = threading.Barrier(cmd["threads"] + 1)
    budget = cmd.get("budget", float("inf"))

    def loop(index: int) -> None:
        barrier.wait(timeout=60)
        deadline = time.perf_counter() + budget
        for _ in range(cmd["n"]):
            try:
                call(cmd["func"], kwargs)
                done[index] += 1
            except Exception as exc:  # counted and reported, the run goes on
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if time.perf_counter() > deadline:
                break

    workers = [
        threading.Thread(target=loop, args=(i,), daemon=True) for i in range(cmd["threads"])
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=60)
    started = time.time()
    for worker in workers:
        worker.join()
    return {
        "start": started,
        "end": time.time(),
        "calls": sum(done),
        "errors": len(errors),
        "error": errors[:1],
    }


def describe(value: Any) -> str:
    """A short check string proving what came back (shape of arrays, else the repr)."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__}{tuple(shape)}"
    return repr(value)[:80]


COMMANDS = {"sequential": run_sequential, "threads": run_threads}


def main(argv: list[str]) -> int:
    """Connect, then answer commands from stdin until EOF or ``{"op": "quit"}``."""
    stack, url, topic = argv
    call = CALLERS[stack](url, topic)
    reply({"ready": True})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        try:
            reply({"ok": True, **COMMANDS[cmd["op"]](call, cmd)})
        except Exception as exc:
            reply({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
            traceback.print_exc()
    return 0


def reply(answer: dict[str, Any]) -> None:
    """Write one marked JSON answer line (libraries may print other lines to stdout)."""
    sys.stdout.write(RESULT_MARK + json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
