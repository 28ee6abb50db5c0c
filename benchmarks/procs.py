"""Child processes of the harness: start, talk to over pipes with timeouts, stop."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks.client_worker import RESULT_MARK

REPO_ROOT = Path(__file__).resolve().parents[1]


class WorkerTimeout(TimeoutError):
    """A child did not answer in time (it has been killed)."""


def child_env() -> dict[str, str]:
    """Environment for children: the repository importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ChildProcess:
    """A Python child whose marked stdout lines arrive on a queue; stderr goes to a file."""

    def __init__(self, args: list[str], name: str) -> None:
        fd, log = tempfile.mkstemp(prefix=f"dasf-bench-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log)
        self.name = name
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (the child writes to it until stop())
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"bench-read-{name}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:  # closed at EOF: nobody else reads it
            for line in self.proc.stdout:
                if line.startswith(RESULT_MARK):
                    self._answers.put(json.loads(line[len(RESULT_MARK) :]))
        self._answers.put(None)  # EOF: the child is gone

    def send(self, command: dict[str, Any]) -> None:
        """Write one JSON command line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float) -> dict[str, Any]:
        """The next answer; kills the child and raises WorkerTimeout when none comes in time."""
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise WorkerTimeout(f"{self.name}: no answer within {timeout:.0f} s") from None
        if answer is None:
            tail = self.log_tail()
            last = (tail.strip().splitlines() or ["no output"])[-1]  # the exception, usually
            raise RuntimeError(f"{self.name} exited: {last}\n{tail}")
        return answer

    def request(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a command and wait (bounded) for its answer."""
        self.send(command)
        return self.answer(timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Close stdin (a polite quit), then terminate, then kill."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=2.0)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=timeout)
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):  # the child is gone: nothing to flush to
                self.proc.stdin.close()
        if not self._log.closed:
            self._log.close()
        if os.environ.get("DASF_BENCH_KEEP_LOGS") != "1":
            self.log_path.unlink(missing_ok=True)


def start_client(stack: str, url: str, topic: str, name: str, timeout: float) -> ChildProcess:
    """A connected :mod:`benchmarks.client_worker` (``stack`` is ``ours`` or ``ref``)."""
    child = ChildProcess(["-m", "benchmarks.client_worker", stack, url, topic], name)
    try:
        ready = child.answer(timeout)
    except Exception:
        child.stop()
        raise
    if not ready.get("ready"):
        child.stop()
        raise RuntimeError(f"{name} failed to start: {ready}")
    return child
