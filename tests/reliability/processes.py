"""Backend modules in their own processes, killed and restarted by fault tests."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

from dasf_jupyter.client import connect
from dasf_jupyter.errors import DasfError
from tests.waiting import eventually

COUNTING_MODULE = str(Path(__file__).with_name("counting_module.py"))
SERVE_REPLICA = str(Path(__file__).with_name("serve_replica.py"))


class BackendProcess:
    """``dasf serve counting_module.py`` as a child process; a context manager."""

    def __init__(
        self,
        url: str,
        topic: str,
        count_file: Path,
        workers: int = 8,
        subscription: str | None = None,
        log_name: str | None = None,
    ) -> None:
        self.url, self.topic, self.count_file = url, topic, Path(count_file)
        self.workers = workers
        #: a fixed subscription name: replicas with the same one share the work
        self.subscription = subscription
        self.process: subprocess.Popen | None = None
        self.log_path = self.count_file.with_name(log_name or self.count_file.stem + ".log")

    def start(self, ready_timeout: float = 60.0) -> BackendProcess:
        """Start and wait until the module answers discovery through the broker."""
        if self.subscription:  # logs its consumer's attachment (see wait_attached)
            cmd = [sys.executable, SERVE_REPLICA, "serve", COUNTING_MODULE]
        else:
            cmd = [sys.executable, "-m", "dasf_jupyter.cli", "serve", COUNTING_MODULE]
        cmd += ["--topic", self.topic, "--url", self.url, "--workers", str(self.workers)]
        if self.subscription is not None:
            cmd += ["--subscription", self.subscription]
        env = {**os.environ, "DASF_COUNT_FILE": str(self.count_file), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        if self.subscription:  # another replica may answer discovery: wait for this one
            self.wait_attached(ready_timeout)
        wait_until_served(self.url, self.topic, ready_timeout, self.process)
        return self

    def wait_attached(self, timeout: float = 60.0, times: int = 1) -> None:
        """Wait until the replica logged its consumer's attachment ``times`` times."""

        def attached() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the backend exited with code {self.process.returncode}")
            return self.log_path.read_text(errors="replace").count("serving topic") >= times

        eventually(attached, timeout=timeout, interval=0.1, message=f"{times} attachment(s)")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> BackendProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until_served(
    url: str, topic: str, timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    """Poll discovery until a module answers on ``topic`` (fail after ``timeout`` s)."""

    def served() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the backend exited with code {process.returncode}")
        with connect(url, timeout=10) as conn:
            conn.api_info(topic, timeout=3)
        return True

    eventually(
        served,
        timeout=timeout,
        interval=0.2,
        retry_on=(DasfError,),
        message=f"a module to answer on {topic!r}",
    )


def executions(count_file: Path) -> collections.Counter[str]:
    """How often each tag ran, from the count file."""
    try:
        lines = Path(count_file).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return collections.Counter()
    return collections.Counter(line for line in lines if line)
