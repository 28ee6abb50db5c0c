"""Key pinning, like ssh's known_hosts: remember each module's key on first use.

The file (default ``~/.local/share/dasf-jupyter/known_modules``, mode 0600) holds one
``<topic> <fingerprint>`` per line. Several kernels and processes of one user share it: every
look-up stats the file and re-reads it when it changed (see :class:`_Snapshot`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from .errors import KeyChanged, KeyFileError
from .files import data_dir, write_private_replace


class KnownModules:
    """topic → pinned fingerprint, persisted in a per-user file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else self.default_path()
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    @staticmethod
    def default_path() -> Path:
        return data_dir() / "known_modules"

    def _read(self) -> dict[str, str]:
        """The pins as the file holds them now (a copy: callers may change it)."""
        return dict(self._current())

    def _current(self) -> dict[str, str]:
        """The pins as the file holds them now; shared, never to be changed."""
        try:
            stamp = _stamp(os.stat(self.path))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KeyFileError(f"cannot read known modules file {self.path}: {exc}") from None
        snapshot = self._snapshot
        if snapshot is None or not snapshot.still(stamp):
            snapshot = _Snapshot(stamp, self._parse(), time.time())
            self._snapshot = snapshot
        return snapshot.pins

    def _parse(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"cannot read known modules file {self.path}: {exc}") from None
        pins: dict[str, str] = {}
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                pins[words[0]] = words[1]
        return pins

    def _write(self, pins: dict[str, str]) -> None:
        lines = [f"{topic} {fp}\n" for topic, fp in sorted(pins.items())]
        write_private_replace(self.path, "".join(lines).encode("utf-8"))

    def get(self, topic: str) -> str | None:
        """The pinned fingerprint of ``topic`` (None if never seen)."""
        with self._lock:
            return self._current().get(topic)

    def all(self) -> dict[str, str]:
        with self._lock:
            return self._read()

    def accept(self, topic: str, fingerprint: str) -> None:
        """Pin ``fingerprint`` for ``topic``, replacing an older pin."""
        with self._lock:
            pins = self._read()
            pins[topic] = fingerprint
            self._write(pins)

    def forget(self, topic: str) -> None:
        with self._lock:
            pins = self._read()
            if pins.pop(topic, None) is not None:
                self._write(pins)

    def check(self, topic: str, fingerprint: str, trusted: str | None = None) -> None:
        """Accept the key ``fingerprint`` of ``topic`` or raise :class:`KeyChanged`.

        ``trusted`` (an explicit fingerprint from the user) overrides the file and is pinned;
        otherwise the first key seen is pinned and any other key is refused.
        """
        if trusted is not None:
            if trusted != fingerprint:
                raise KeyChanged(
                    topic,
                    trusted,
                    fingerprint,
                    "pass the new fingerprint in trust={...} (or `%dasf connect --trust`)",
                )
            if self.get(topic) != fingerprint:
                self.accept(topic, fingerprint)
            return
        with self._lock:
            pins = self._read()
            pinned = pins.get(topic)
            if pinned is None:
                pins[topic] = fingerprint
                self._write(pins)
                return
        if pinned != fingerprint:
            raise KeyChanged(
                topic,
                pinned,
                fingerprint,
                f"run KnownModules({str(self.path)!r}).accept({topic!r}, {fingerprint!r}), "
                f"pass trust={{{topic!r}: {fingerprint!r}}} to connect(), or edit {self.path}",
            )


#: a file changed less than this long before we read it may change again with the same stamp
_RACY_SECONDS = 2.0

_Stamp = tuple[int, int, int, int, int]


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class _Snapshot:
    """The pins read from one version of the file, identified by its stat stamp.

    A stamp can repeat when another process replaces the file within the file system's
    timestamp granularity (same size, a recycled inode), as git's "racy" index entries do:
    a snapshot taken within :data:`_RACY_SECONDS` of the file's change is never reused.
    """

    __slots__ = ("pins", "reusable", "stamp")

    def __init__(self, stamp: _Stamp, pins: dict[str, str], read_at: float) -> None:
        self.stamp = stamp
        self.pins = pins
        changed = max(stamp[3], stamp[4]) / 1e9
        self.reusable = read_at - changed >= _RACY_SECONDS

    def still(self, stamp: _Stamp) -> bool:
        """Whether these pins are what a file with ``stamp`` holds."""
        return self.reusable and stamp == self.stamp
