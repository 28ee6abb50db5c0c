"""The kernel's own broker: found via jupyter-server, or started as a child process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import jupyter_settings
from .reaper import start_reaper, stop_reaper
from .server_origin import kernel_server_origins

if TYPE_CHECKING:  # imported when a broker starts: importing the kernel extension stays fast
    from ..broker.process import BrokerProcess

#: path of the jupyter-server extension's endpoint that names the broker to use
SERVER_CONFIG_PATH = "/dasf/config"


@dataclass(frozen=True)
class BrokerLocation:
    """Where to connect and who said so (``"jupyter-server"``, ``"embedded"`` …)."""

    url: str
    token: str | None = None
    source: str = ""


def embedded_base_dir() -> Path:
    """The per-user folder under which embedded brokers keep their data."""
    override = jupyter_settings().embedded_dir  # DASF_EMBEDDED_DIR
    if override:
        return Path(override)
    try:
        from jupyter_core.paths import jupyter_data_dir

        return Path(jupyter_data_dir()) / "dasf-jupyter" / "embedded-broker"
    except ImportError:  # plain IPython without jupyter_core
        return Path.home() / ".local" / "share" / "dasf-jupyter" / "embedded-broker"


def server_config_url() -> tuple[str, str | None] | None:
    """``(url of /dasf/config, jupyter token)`` of the server running this kernel, if known."""
    base = os.environ.get("JUPYTER_SERVER_URL") or os.environ.get("JUPYTERHUB_SERVICE_URL")
    if not base:
        return None
    token = os.environ.get("JUPYTER_TOKEN") or os.environ.get("JPY_API_TOKEN")
    return base.rstrip("/") + SERVER_CONFIG_PATH, token


def broker_from_server(timeout: float = 3.0) -> BrokerLocation | None:
    """The broker the jupyter-server extension announces, or ``None`` if there is none."""
    found = server_config_url()
    if found is None:
        return None
    url, token = found
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            data = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None  # no extension there: the caller falls back to an embedded broker
    broker_url = data.get("broker_url") if isinstance(data, dict) else None
    if not isinstance(broker_url, str) or not broker_url:
        return None
    broker_token = data.get("token")
    return BrokerLocation(
        broker_url, broker_token if isinstance(broker_token, str) else None, "jupyter-server"
    )


class EmbeddedBroker:
    """A :class:`~dasf_jupyter.broker.process.BrokerProcess` owned by this kernel.

    Started on first use on a free loopback port, reused afterwards, stopped by :meth:`stop`
    (at kernel shutdown). A small watchdog process stops it too if the kernel is killed.
    """

    def __init__(self, base_dir: Path | None = None, start_timeout: float = 60.0) -> None:
        self.base_dir = base_dir or embedded_base_dir()
        self.start_timeout = start_timeout
        self._process: BrokerProcess | None = None
        self._watchdog: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        process = self._process
        return (
            process is not None
            and process.process is not None
            and (process.process.poll() is None)
        )

    @property
    def url(self) -> str | None:
        process = self._process
        return process.url if process is not None and self.running else None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and self.running else None

    @property
    def data_dir(self) -> Path:
        # one folder per kernel: two kernels never share a SQLite file or a log
        return self.base_dir / f"kernel-{os.getpid()}"

    def ensure(self) -> str:
        """Start the broker unless it runs already; return its websocket URL."""
        from ..broker.process import BrokerProcess

        with self._lock:
            current = self._process
            if current is not None and self.running:
                return current.url
            self.stop_locked()
            origins = ",".join(kernel_server_origins())  # pages of this Jupyter server
            process = BrokerProcess(
                data_dir=self.data_dir,
                start_timeout=self.start_timeout,
                env={"DASF_ALLOWED_ORIGINS": origins},
            )
            process.start()
            self._process = process
            self._watchdog = start_reaper(process.pid)
            return process.url

    def stop(self) -> None:
        """Stop the broker and its watchdog; remove the data folder (idempotent)."""
        with self._lock:
            self.stop_locked()

    def stop_locked(self) -> None:
        process, self._process = self._process, None
        watchdog, self._watchdog = self._watchdog, None
        if process is not None:
            process.stop(timeout=10.0)
            shutil.rmtree(self.data_dir, ignore_errors=True)
        stop_reaper(watchdog)
