"""Watchdog process: stop the embedded broker once the kernel that owns it is gone.

``python -m dasf_jupyter.jupyter.reaper <kernel pid> <broker pid>``. A kernel killed with
SIGKILL (restart while busy) never runs its ``atexit`` handlers; this keeps its broker from
living on as an orphan.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_INTERVAL = 0.5
TERM_GRACE = 10.0


def start_reaper(broker_pid: int) -> subprocess.Popen | None:
    """Start a reaper that stops ``broker_pid`` once this process is gone (even after SIGKILL).

    ``None`` when it cannot be started: the owner's own shutdown still stops the broker.
    """
    cmd = [sys.executable, "-m", "dasf_jupyter.jupyter.reaper", str(os.getpid()), str(broker_pid)]
    try:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None


def stop_reaper(reaper: subprocess.Popen | None) -> None:
    """End a reaper whose broker was stopped by its owner (SIGTERM means exactly that)."""
    if reaper is None or reaper.poll() is not None:
        return
    reaper.terminate()
    try:
        reaper.wait(5)
    except subprocess.TimeoutExpired:
        reaper.kill()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust the signal check
    return stat.rpartition(")")[2].split()[0] != "Z"


def is_broker(pid: int) -> bool:
    """Guard against pid reuse: only ever signal a dasf broker."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return os.name == "posix" and not Path("/proc").is_dir()
    return b"dasf_jupyter.broker" in cmdline or b"dasf-broker" in cmdline


def stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after a grace period."""
    if not (alive(pid) and is_broker(pid)):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + TERM_GRACE
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(a.isdigit() for a in argv):
        print(
            "usage: python -m dasf_jupyter.jupyter.reaper KERNEL_PID BROKER_PID", file=sys.stderr
        )
        return 2
    kernel, broker = int(argv[0]), int(argv[1])
    # a terminate() from the kernel means "the kernel stops the broker itself": just exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while alive(kernel):
        if not alive(broker):
            return 0
        time.sleep(POLL_INTERVAL)
    stop(broker)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
