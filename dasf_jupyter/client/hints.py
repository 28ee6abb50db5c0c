"""What to tell a caller whose module is not served: a hint that fits where they are.

From a script the hint is ``dasf serve``; in a notebook whose kernel served the topic from a
cell that has since stopped, it is "re-run its cell". The Jupyter session registers a provider
for its kernel; the client asks :func:`not_served_hint` when it raises ``ModuleNotServed``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

HintProvider = Callable[[str], "str | None"]

_providers: list[HintProvider] = []
_lock = threading.Lock()


def default_hint(topic: str) -> str:
    """The hint for a module started from a file."""
    return f"start one with `dasf serve <file.py> --topic {topic} --url <broker url>`"


def register_hint(provider: HintProvider) -> Callable[[], None]:
    """Add ``provider`` (``topic -> hint or None``); return a function that removes it."""
    with _lock:
        _providers.append(provider)

    def remove() -> None:
        with _lock:
            if provider in _providers:
                _providers.remove(provider)

    return remove


def not_served_hint(topic: str) -> str:
    """The newest provider's hint for ``topic``, else :func:`default_hint`."""
    with _lock:
        providers = list(reversed(_providers))
    for provider in providers:
        try:
            hint = provider(topic)
        except Exception:  # a hint must never hide the error it decorates
            hint = None
        if hint:
            return hint
    return default_hint(topic)
