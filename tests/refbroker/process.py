"""Run dasf-broker-django under daphne in a subprocess, bound to 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.waiting import NeverHappened, eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def terminate(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM a child process, SIGKILL it if it does not end within ``timeout`` s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


class ReferenceBroker:
    """dasf-broker-django (daphne subprocess, SQLite in a temp dir) with start/stop/url."""

    def __init__(
        self,
        port: int | None = None,
        *,
        store_messages: str = "cache",
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        anonymous_can_create: bool = True,
        startup_timeout: float = 60.0,
    ) -> None:
        self.port = port or _free_port()
        self.store_messages = store_messages
        self.max_message_size = max_message_size
        self.anonymous_can_create = anonymous_can_create
        self.startup_timeout = startup_timeout
        self.state_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file = None

    @property
    def url(self) -> str:
        """Websocket base URL for demessaging's ``WebsocketURLConfig.websocket_url``."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        """HTTP root (status views live under ``/dasf-broker-django/<topic>/status/``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """File that collects daphne's stdout and stderr."""
        assert self.state_dir is not None, "broker not started"
        return self.state_dir / "daphne.log"

    def env(self) -> dict[str, str]:
        """Environment for any process that should use this broker's Django settings/DB."""
        assert self.state_dir is not None, "broker not started"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.refbroker.settings",
            DASF_REFBROKER_DIR=str(self.state_dir),
            DASF_REFBROKER_STORE=self.store_messages,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        )
        return env

    def start(self) -> ReferenceBroker:
        """Migrate a fresh database, start daphne and wait until the port accepts connections."""
        if self._proc is not None:
            raise RuntimeError("reference broker already started")
        self.state_dir = Path(tempfile.mkdtemp(prefix="dasf-refbroker-"))
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 (the child writes to it until stop())
        cmd = [sys.executable, "-m", "tests.refbroker.serve", "--port", str(self.port)]
        cmd += ["--max-message-size", str(self.max_message_size)]
        if not self.anonymous_can_create:
            cmd.append("--no-anonymous")
        self._proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=self.env(), stdout=self._log_file, stderr=subprocess.STDOUT
        )
        proc = self._proc

        def listening() -> bool:
            if proc.poll() is not None:
                log = self.log_path.read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"reference broker exited during start-up:\n{log}")
            return _port_accepts(self.port)

        try:
            eventually(
                listening,
                timeout=self.startup_timeout,
                interval=0.1,
                message="the reference broker to listen",
            )
        except NeverHappened:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate daphne (SIGTERM, then SIGKILL) and remove the temp directory."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.state_dir is not None and os.environ.get("DASF_REFBROKER_KEEP") != "1":
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def create_token(self, username: str, *, can_create_topics: bool = True) -> str:
        """Create (or reuse) a user with a DRF token; send it as ``Authorization: Token <key>``."""
        cmd = [sys.executable, "-m", "tests.refbroker.tokens", username]
        if can_create_topics:
            cmd.append("--can-create-topics")
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, env=self.env(), capture_output=True, text=True, timeout=60
        )
        if proc.returncode != 0:
            raise RuntimeError(f"could not create a token for {username!r}:\n{proc.stderr}")
        return proc.stdout.strip().splitlines()[-1]

    def is_running(self) -> bool:
        """True while the daphne process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> ReferenceBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
