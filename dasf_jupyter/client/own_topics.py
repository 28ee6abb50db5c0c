"""The response topics of our own clients (what "a caller of our own" means).

A module served from a notebook sends its traceback only to callers of the same user: the
notebook itself, its forms and clients, and — once :func:`share_with_user` was called, as
the Jupyter extension does in every kernel — the user's other kernels on this machine. They
are recognised by the response topic of a request, which each client picks at random and
keeps private. Kernels share theirs through files only the user can read.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path

_topics: set[str] = set()
_lock = threading.Lock()


class _Sharing:
    """Where this process shares its topics (None until :func:`share_with_user`)."""

    file: Path | None = None


_sharing = _Sharing()
_SUFFIX = ".topics"


def register(topic: str) -> None:
    """Note a response topic that a client of this process consumes."""
    with _lock:
        _topics.add(topic)
        _write()


def discard(topic: str) -> None:
    """Forget a response topic once its client closed."""
    with _lock:
        _topics.discard(topic)
        _write()


def is_own(topic: str) -> bool:
    """Whether ``topic`` is the response topic of a client of this process or user."""
    with _lock:
        if topic in _topics:
            return True
        shared = _sharing.file
    return shared is not None and any(
        topic in _read(path) for path in shared.parent.glob(f"*{_SUFFIX}") if path != shared
    )


def share_with_user(directory: str | Path) -> Path:
    """Publish this process's response topics to the user's other kernels (and see theirs).

    ``directory`` is created readable by the user only; this process's file goes at exit.
    """
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # an existing folder, too: topic names are not for other users
    with _lock:
        if _sharing.file is None:
            _sharing.file = folder / f"{os.getpid()}{_SUFFIX}"
            atexit.register(_remove, _sharing.file)
        _write()
        return _sharing.file


def _write() -> None:
    """Rewrite this process's shared file (caller holds the lock)."""
    if _sharing.file is None:
        return
    temporary = _sharing.file.with_suffix(".tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write("".join(f"{t}\n" for t in sorted(_topics)))
        os.replace(temporary, _sharing.file)
    except OSError:  # sharing is a convenience: a full disk must not stop a client
        pass


def _read(path: Path) -> set[str]:
    try:
        return set(path.read_text(encoding="utf-8").split())
    except OSError:
        return set()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
