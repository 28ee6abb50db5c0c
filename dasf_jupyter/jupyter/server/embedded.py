"""A broker started with the Jupyter server and stopped with it."""

from __future__ import annotations

import logging
import subprocess
import threading
from concurrent.futures import Future
from pathlib import Path

from ...broker.process import BrokerProcess
from ..reaper import start_reaper, stop_reaper

log = logging.getLogger(__name__)


class ServerBroker:
    """Starts a :class:`BrokerProcess` in a thread so that the server does not wait for it."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self._process = BrokerProcess(port=port, data_dir=data_dir)
        self._ready: Future[str] = Future()
        self._thread: threading.Thread | None = None
        self._watchdog: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The broker's websocket base URL (known before it is ready)."""
        return self._process.url

    @property
    def http_url(self) -> str:
        return self._process.http_url

    def start(self, allowed_origins: list[str] | tuple[str, ...] = ()) -> None:
        """Begin starting the broker in the background; browsers may connect from
        ``allowed_origins`` (the Jupyter server's pages) besides the broker's own origin."""
        self._process.extra_env["DASF_ALLOWED_ORIGINS"] = ",".join(allowed_origins)
        self._thread = threading.Thread(target=self._start, name="dasf-server-broker", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self._process.start()
        except BaseException as exc:  # reported to whoever waits for the URL
            log.error("the embedded DASF broker did not start: %s", exc)
            self._ready.set_exception(exc)
        else:
            log.info("embedded DASF broker listening at %s", self._process.url)
            self._watchdog = start_reaper(self._process.pid)
            self._ready.set_result(self._process.url)

    def ready(self) -> Future[str]:
        """Resolves to the URL once the broker accepts connections (or to the start error)."""
        return self._ready

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the broker (waits for a start still in progress first)."""
        if self._thread is not None:
            self._thread.join(self._process.start_timeout + 5.0)
        self._process.stop(timeout)
        watchdog, self._watchdog = self._watchdog, None
        stop_reaper(watchdog)
