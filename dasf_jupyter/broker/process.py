"""A broker in a subprocess, for tests, notebooks and the toolkit's embedded default."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .server import READY_MARKER


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class BrokerProcess:
    """Runs ``python -m dasf_jupyter.broker`` as a child process; a context manager.

    ``start()`` returns once the port answers (or raises after ``start_timeout``);
    ``stop()`` terminates gracefully (SIGTERM, then SIGKILL); ``kill()`` is for fault tests.
    Without ``data_dir`` a temporary directory is used and removed on stop. With
    ``exit_with_parent`` (default) the broker also shuts down when this process dies.
    """

    def __init__(  # noqa: PLR0913 (the options of one `dasf-broker` process, keyword-only)
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        data_dir: str | Path | None = None,
        secure: bool = False,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] | list[str] = (),
        start_timeout: float = 60.0,
        log_path: str | Path | None = None,
        exit_with_parent: bool = True,
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self._own_dir = data_dir is None
        self.data_dir = (
            Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="dasf-broker-"))
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.secure = secure
        self.extra_env = dict(env or {})
        self.extra_args = tuple(extra_args)
        self.start_timeout = start_timeout
        self.exit_with_parent = exit_with_parent
        self.log_path = Path(log_path) if log_path else self.data_dir / "broker.log"
        self.process: subprocess.Popen | None = None
        self._log: Any = None
        self._log_start = 0

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The broker's process id (once started)."""
        if self.process is None:
            raise RuntimeError("the broker process is not started")
        return self.process.pid

    def environment(self) -> dict[str, str]:
        """The environment of the broker and of :meth:`manage` commands."""
        env = dict(os.environ)
        # an embedded broker is self-contained: never inherit a Django project's settings or
        # a production database/Redis from the caller's environment (pass them in ``env``)
        for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DASF_REDIS_PREFIX"):
            env.pop(name, None)
        env["DASF_DATA_DIR"] = str(self.data_dir)
        env["DASF_BROKER_SECURE"] = "1" if self.secure else "0"
        env["PYTHONUNBUFFERED"] = "1"
        if self.exit_with_parent:  # no orphaned brokers when our process dies uncleanly
            env["DASF_EXIT_WITH_PARENT"] = str(os.getpid())
        env.update(self.extra_env)
        return env

    def start(self) -> BrokerProcess:
        """Start the broker and wait until it accepts connections."""
        if self.process is not None:
            return self
        cmd = [sys.executable, "-m", "dasf_jupyter.broker", "serve", "--host", self.host]
        cmd += ["--port", str(self.port), "--log-level", "warning", *self.extra_args]
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            cmd, env=self.environment(), stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.start_timeout
        # the marker proves that *our* process bound the port (not some other listener)
        while not self._ready():
            if self.process.poll() is not None:
                self._close_log()
                raise RuntimeError(
                    f"dasf-broker exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"dasf-broker did not listen on {self.host}:{self.port} within "
                    f"{self.start_timeout} s:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        return self

    def _ready(self) -> bool:
        try:
            with open(self.log_path, "rb") as stream:
                stream.seek(self._log_start)
                output = stream.read().decode("utf-8", errors="replace")
        except OSError:
            return False
        return READY_MARKER in output and _port_open(self.host, self.port)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the broker's output (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """Terminate gracefully (SIGTERM), kill after ``timeout``; return the exit code."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(5)
            code = self.process.returncode
            self.process = None
        self._close_log()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return code

    def kill(self) -> None:
        """Kill the broker abruptly (SIGKILL), as a crash would; data dir is kept."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def manage(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run ``dasf-broker manage <args>`` against this broker's data dir and environment.

        The caller reads the return code (a refused command is a result, not an exception).
        """
        return subprocess.run(  # noqa: PLW1510
            [sys.executable, "-m", "dasf_jupyter.broker", "manage", *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> BrokerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
