"""Peak resident memory of processes (and their children), sampled in a thread."""

from __future__ import annotations

import contextlib
import threading

import psutil

SAMPLE_INTERVAL = 0.05


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` plus all its descendants (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


class PeakRss:
    """Samples labelled process groups until stopped; ``peak[label]`` in bytes."""

    def __init__(self) -> None:
        self.groups: dict[str, list[int]] = {}
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def watch(self, label: str, pid: int) -> None:
        """Add ``pid`` to group ``label`` (a group's RSS is the sum of its processes)."""
        with self._lock:
            self.groups.setdefault(label, []).append(pid)

    def forget(self, label: str) -> None:
        """Stop sampling group ``label`` (its peak so far is kept)."""
        with self._lock:
            self.groups.pop(label, None)

    def sample(self) -> None:
        with self._lock:
            groups = {label: list(pids) for label, pids in self.groups.items()}
        for label, pids in groups.items():
            value = sum(tree_rss(pid) for pid in pids)
            self.peak[label] = max(self.peak.get(label, 0), value)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            self.sample()

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.sample()
