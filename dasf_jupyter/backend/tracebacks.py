"""Which callers get a module's traceback, and the traceback trimmed to the module's code.

A remote traceback helps the module's author; the frames of our dispatcher do not, and the
traceback may reveal code and paths to strangers. ``send_traceback`` of a module is ``True``
(every caller), ``False`` (nobody) or a predicate on the caller's response topic.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

#: ``True``, ``False`` or ``predicate(response_topic) -> bool``
TracebackPolicy = bool | Callable[[str], bool]

_PACKAGE = str(Path(__file__).resolve().parents[1])  # .../dasf_jupyter


def wants_traceback(policy: TracebackPolicy, response_topic: str) -> bool:
    """Whether the caller answering on ``response_topic`` gets the traceback."""
    if callable(policy):
        try:
            return bool(policy(response_topic))
        except Exception:  # a broken policy sends nothing rather than failing the reply
            return False
    return bool(policy)


def _is_ours(tb: TracebackType) -> bool:
    filename = tb.tb_frame.f_code.co_filename
    try:
        return str(Path(filename).resolve()).startswith(_PACKAGE)
    except (OSError, ValueError):
        return False


def module_traceback(error: BaseException) -> str:
    """The traceback from the first frame of the module's own code on (ours are left out).

    Without any such frame (the request failed validation before the module ran) only the
    exception line is given.
    """
    tb = error.__traceback__
    while tb is not None and _is_ours(tb):
        tb = tb.tb_next
    if tb is None:
        return "".join(traceback.format_exception_only(type(error), error))
    return "".join(traceback.format_exception(type(error), error, tb))
