"""The response topics of the clients in this process (what "a caller of our own" means).

A module served from a notebook sends its traceback only to callers in the same kernel: the
notebook itself, its forms and any client it opens. They are recognised by the response
topic of a request, which each client picks at random and keeps private.
"""

from __future__ import annotations

import threading

_topics: set[str] = set()
_lock = threading.Lock()


def register(topic: str) -> None:
    """Note a response topic that a client of this process consumes."""
    with _lock:
        _topics.add(topic)


def discard(topic: str) -> None:
    """Forget a response topic once its client closed."""
    with _lock:
        _topics.discard(topic)


def is_own(topic: str) -> bool:
    """Whether ``topic`` is the response topic of a client in this process."""
    with _lock:
        return topic in _topics
