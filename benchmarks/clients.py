"""Client processes for one stack and topic, and the commands the workloads send them."""

from __future__ import annotations

from typing import Any

from benchmarks.procs import ChildProcess, WorkerTimeout, start_client
from benchmarks.settings import Settings

CLIENT_START_TIMEOUT = 120.0


class ClientPool:
    """Long-lived client processes on one topic, started on demand.

    Ours: one process, threads share one ``Connection`` (it is thread-safe by design); the
    floor likewise shares one ``FloorClient``.
    Reference: demessaging's client state is per process, so threads are spread over up to
    ``settings.ref_processes`` processes, each with its own producer.
    """

    def __init__(self, kind: str, url: str, topic: str, settings: Settings) -> None:
        self.kind, self.url, self.topic, self.settings = kind, url, topic, settings
        self.workers: list[ChildProcess] = []

    def ensure(self, count: int) -> list[ChildProcess]:
        """At least ``count`` live workers (dead ones are replaced); returns the first count."""
        self.workers = [w for w in self.workers if w.alive()]
        missing = count - len(self.workers)
        if missing > 0:
            fresh = [self._spawn(len(self.workers) + i) for i in range(missing)]
            for worker in fresh:
                ready = worker.answer(CLIENT_START_TIMEOUT)
                if not ready.get("ready"):
                    raise RuntimeError(f"{worker.name} did not start: {ready}")
            self.workers += fresh
        return self.workers[:count]

    def _spawn(self, index: int) -> ChildProcess:
        args = ["-m", "benchmarks.client_worker", self.kind, self.url, self.topic]
        return ChildProcess(args, f"{self.kind}-client-{index}")

    def layout(self, threads: int) -> tuple[int, int]:
        """(processes, threads per process) for ``threads`` client threads in total."""
        if self.kind != "ref":  # ours and the floor: threads share one thread-safe client
            return 1, threads
        processes = min(threads, self.settings.ref_processes)
        return processes, -(-threads // processes)

    def sequential(self, func: str, n: int, **spec: Any) -> dict[str, Any]:
        """``n`` calls in a row on the first worker; raises on failure or timeout."""
        worker = self.ensure(1)[0]
        answer = worker.request(
            {"op": "sequential", "func": func, "n": n, **spec}, self.settings.call_timeout
        )
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error", "call failed"))
        return answer

    def threaded(self, func: str, threads: int, n: int, **spec: Any) -> tuple[float, int, str]:
        """All threads start together; returns (calls/s of successful calls, errors, error)."""
        processes, per_process = self.layout(threads)
        workers = self.ensure(processes)
        command = {"op": "threads", "func": func, "n": n, "threads": per_process, **spec}
        for worker in workers:
            worker.send(command)
        answers = [w.answer(self.settings.call_timeout) for w in workers]
        failed = [a for a in answers if not a.get("ok")]
        if failed:
            raise RuntimeError(failed[0].get("error", "call failed"))
        span = max(a["end"] for a in answers) - min(a["start"] for a in answers)
        errors = sum(a["errors"] for a in answers)
        first = next((a["error"][0] for a in answers if a["error"]), "")
        return sum(a["calls"] for a in answers) / span, errors, first

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []


__all__ = ["ClientPool", "WorkerTimeout", "start_client"]
