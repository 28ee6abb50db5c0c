"""Where a module remembers the request nonces it has seen, so that a replay runs nowhere.

A nonce must be refused by *every* replica of a module and after a restart, for as long as
its timestamp is inside the freshness window. Three stores, one interface
(``add(namespace, nonce, timestamp, now)``, raising :class:`ReplayedNonce`):

* :class:`ReplayCache` (in :mod:`.signatures`): this process only; tests and ad-hoc policies.
* :class:`FileReplayStore`: an append-only file next to the module key, shared by the
  replicas on one machine (``flock``) and surviving restarts; compacted as entries expire.
* :class:`RedisReplayStore`: ``SET NX EX`` in Redis, shared by replicas anywhere.

Each keeps at most ``max_entries`` nonces in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import Protocol

from .errors import ReplayCheckUnavailable, ReplayedNonce
from .signatures import DEFAULT_WINDOW, ReplayCache

#: rewrite the file without expired entries once it is larger than this
COMPACT_BYTES = 1 << 20


class ReplayStore(Protocol):
    """Records nonces; :meth:`add` raises :class:`ReplayedNonce` for one seen before."""

    window: float

    def add(self, namespace: str, nonce: str, timestamp: float, now: float) -> None: ...


def _check_words(namespace: str, nonce: str) -> None:
    if not namespace or not nonce or any(c.isspace() for c in namespace + nonce):
        raise ReplayedNonce("the request nonce is empty or malformed")


class FileReplayStore:
    """Nonces in an append-only file (``<module key>.seen``) shared through ``flock``.

    Each line is ``<timestamp> <namespace> <nonce>``. Under the lock a process first reads
    what others appended since its last look, then checks and appends its own nonce, so
    replicas on one machine and a restarted module see every nonce of the window.
    """

    def __init__(
        self,
        path: str | Path,
        window: float = DEFAULT_WINDOW,
        max_entries: int = 100_000,
    ) -> None:
        self.path = Path(path)
        self.window = window
        self._memory = ReplayCache(window=window, max_entries=max_entries)
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file we read
        self._offset = 0
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __len__(self) -> int:
        return len(self._memory)

    def add(self, namespace: str, nonce: str, timestamp: float, now: float) -> None:
        _check_words(namespace, nonce)
        with self._lock, self._locked():
            self._catch_up(now)
            self._memory.add(namespace, nonce, timestamp, now)  # raises for a replay
            line = f"{int(timestamp)} {namespace} {nonce}\n".encode("ascii")
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                info = os.fstat(fd)
            finally:
                os.close(fd)
            self._identity, self._offset = (info.st_dev, info.st_ino), info.st_size
            if info.st_size > COMPACT_BYTES:
                self._compact(now)

    @contextlib.contextmanager
    def _locked(self):
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _catch_up(self, now: float) -> None:
        """Read the lines appended since our last look (all of them if the file was rewritten)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return
        if (info.st_dev, info.st_ino) != self._identity or info.st_size < self._offset:
            self._identity, self._offset = (info.st_dev, info.st_ino), 0
        if info.st_size == self._offset:
            return
        with open(self.path, "rb") as file:
            file.seek(self._offset)
            data = file.read(info.st_size - self._offset)
        complete = data.rfind(b"\n") + 1  # a line being written by another process waits
        self._offset += complete
        for line in data[:complete].splitlines():
            self._remember(line, now)

    def _remember(self, line: bytes, now: float) -> None:
        words = line.split()
        if len(words) != 3:
            return
        try:
            stamp = float(words[0])
        except ValueError:
            return
        if stamp < now - self.window:
            return  # expired: its timestamp is refused anyway
        with contextlib.suppress(ReplayedNonce):  # seen twice in the file: once is enough
            self._memory.add(words[1].decode("ascii", "replace"), words[2].decode(), stamp, now)

    def _compact(self, now: float) -> None:
        """Rewrite the file with the entries still inside the window (lock held)."""
        fresh = self._memory.entries(now)
        text = "".join(f"{int(ts)} {ns} {nonce}\n" for (ns, nonce), ts in fresh)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("ascii"))
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        info = os.stat(self.path)
        self._identity, self._offset = (info.st_dev, info.st_ino), info.st_size


class RedisReplayStore:
    """Nonces as Redis keys (``SET NX EX window``), shared by every replica of the module.

    ``scope`` separates modules (the module key's fingerprint). If Redis cannot be reached
    the request is refused (:class:`ReplayCheckUnavailable`): fail closed.
    """

    def __init__(
        self, url: str, scope: str, window: float = DEFAULT_WINDOW, prefix: str = "dasf:replay"
    ) -> None:
        import redis  # optional: only modules given --redis / DASF_REDIS_URL need it

        self.window = window
        self._prefix = f"{prefix}:{scope}"
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def key(self, namespace: str, nonce: str) -> str:
        return f"{self._prefix}:{namespace}:{nonce}"

    def add(self, namespace: str, nonce: str, timestamp: float, now: float) -> None:
        _check_words(namespace, nonce)
        # kept until the timestamp leaves the window (in the past *or* the future)
        ttl = max(int(timestamp + self.window - now) + 1, 1)
        try:
            fresh = self._client.set(self.key(namespace, nonce), b"1", nx=True, ex=ttl)
        except self._errors as exc:
            raise ReplayCheckUnavailable(
                f"cannot check the request nonce: Redis is unreachable ({type(exc).__name__})"
            ) from None
        if not fresh:
            raise ReplayedNonce(f"request nonce {nonce!r} was already used (replay)")

    def close(self) -> None:
        self._client.close()


def replay_store(
    file: str | Path | None,
    scope: str,
    window: float = DEFAULT_WINDOW,
    redis_url: str | None = None,
) -> ReplayStore:
    """Redis if ``redis_url`` is set (``dasf serve`` passes ``DASF_REDIS_URL``), else ``file``,
    else memory."""
    if redis_url:
        return RedisReplayStore(redis_url, scope, window)
    if file is not None:
        return FileReplayStore(file, window)
    return ReplayCache(window=window)
