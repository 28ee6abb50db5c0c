"""A real ``jupyter server`` (or ``jupyter lab``) subprocess for the extension tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from tests.waiting import NeverHappened, eventually

EXTENSION = "dasf_jupyter.jupyter.server"


class JupyterServer:
    """Runs ``python -m <app>`` with the DASF server extension on a free loopback port."""

    def __init__(
        self,
        root: Path,
        env: dict[str, str] | None = None,
        app: str = "jupyter_server",
        extra_args: tuple[str, ...] = (),
        start_timeout: float = 90.0,
    ) -> None:
        self.root = root
        self.port = free_port()
        self.token = "dasf-test-token"
        self.app = app
        self.env = {**os.environ, **(env or {})}
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.log_path = root / f"{app}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> JupyterServer:
        cmd = [
            sys.executable,
            "-m",
            self.app,
            "--no-browser",
            "--allow-root",  # CI runs as root
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--ServerApp.jpserver_extensions={EXTENSION}=True",
            *self.extra_args,
        ]
        # the child's own config/data dirs: no user settings leak into the test
        env = dict(self.env)
        env.setdefault("JUPYTER_CONFIG_DIR", str(self.root / ".jupyter-config"))
        env.setdefault("JUPYTER_RUNTIME_DIR", str(self.root / ".jupyter-runtime"))
        env.setdefault("JUPYTERLAB_SETTINGS_DIR", str(self.root / ".lab-settings"))
        env.setdefault("JUPYTERLAB_WORKSPACES_DIR", str(self.root / ".lab-workspaces"))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{self.app} exited:\n{self.log_tail()}")
            self.get("/api/status")
            return True

        try:
            eventually(
                up,
                timeout=self.start_timeout,
                interval=0.2,
                retry_on=(urllib.error.URLError, OSError),
                message=lambda: f"{self.app} to start:\n{self.log_tail()}",
            )
        except NeverHappened:
            self.stop()
            raise
        return self

    def get(self, path: str, token: str | None = "default", timeout: float = 30.0) -> Any:
        """GET a JSON document; raises urllib's HTTPError for error statuses."""
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"token {self.token if token == 'default' else token}"
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return json.loads(answer.read())

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (Jupyter's clean shutdown, runs the extensions' stop hooks), then SIGKILL."""
        # not SIGINT: background jobs (CI, nohup) inherit it ignored, and it asks to confirm
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        code = self.process.returncode
        self.process = None
        self._log.close()
        return code
