"""Run a demessaging backend module (``ref_module`` by default) as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.refbroker.process import REPO_ROOT, terminate
from tests.refbroker.rawws import wait_for_pong

DEMESSAGING_MAX_PAYLOAD_SIZE = 500 * 1024  # demessaging's own default, so fragments happen


class ReferenceBackend:
    """A demessaging module served through demessaging's CLI ``listen`` with a websocket URL."""

    def __init__(
        self,
        broker_url: str,
        topic: str,
        *,
        module: str = "tests.refbroker.ref_module",
        max_payload_size: int = DEMESSAGING_MAX_PAYLOAD_SIZE,
        extra_args: list[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.broker_url = broker_url
        self.topic = topic
        self.module = module
        self.max_payload_size = max_payload_size
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file = None
        self.log_path: Path | None = None

    def command(self) -> list[str]:
        """The demessaging CLI call: ``python -m MODULE --websocket-url U -t T ... listen``."""
        return [
            sys.executable,
            "-m",
            self.module,
            "--websocket-url",
            self.broker_url,
            "-t",
            self.topic,
            "--max_payload_size",
            str(self.max_payload_size),
            *self.extra_args,
            "listen",
        ]

    def start(self) -> ReferenceBackend:
        """Start the module and block until it answers a ping (bounded by startup_timeout)."""
        if self._proc is not None:
            raise RuntimeError("reference backend already started")
        fd, name = tempfile.mkstemp(prefix=f"dasf-refbackend-{self.topic}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 (the child writes to it until stop())
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            self.command(), cwd=REPO_ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_for_pong(
                self.broker_url, self.topic, timeout=self.startup_timeout, alive=self.is_running
            )
        except Exception as exc:
            log = self.read_log()
            self.stop()
            raise RuntimeError(
                f"demessaging backend on {self.topic!r} did not come up: {exc}\n{log}"
            ) from exc
        return self

    def read_log(self) -> str:
        """What the module printed so far (stdout and stderr)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def is_running(self) -> bool:
        """True while the module process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the module (SIGTERM, then SIGKILL) and remove its log."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.log_path is not None and os.environ.get("DASF_REFBROKER_KEEP") != "1":
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> ReferenceBackend:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
