"""A backend module for fault tests: every execution appends its tag to a file.

The file (``$DASF_COUNT_FILE``) lets a test count executions across backend restarts, to
check the delivery semantics (a request never runs twice).
"""

from __future__ import annotations

import os
import time


def _record(tag: str) -> None:
    # one short O_APPEND write per call: lines of concurrent calls do not interleave
    with open(os.environ["DASF_COUNT_FILE"], "a", encoding="utf-8") as stream:
        stream.write(tag + "\n")


def echo(tag: str, data: str = "") -> str:
    """Record the call, return ``data``."""
    _record(tag)
    return data


def slow(tag: str, seconds: float) -> str:
    """Record the call, sleep ``seconds``, return ``tag``."""
    _record(tag)
    time.sleep(seconds)
    return tag


def size(tag: str, data: str = "") -> int:
    """Record the call, return the length of ``data`` (large requests, small replies)."""
    _record(tag)
    return len(data)
