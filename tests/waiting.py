"""Waiting for something to happen in a test: poll a condition against a deadline.

A test never sleeps to let something happen; it says what it waits for::

    count = eventually(lambda: len(sink.sent) >= 2 and len(sink.sent), message="two reports")

and fails, after ``timeout`` seconds, with what it was waiting for and what it saw last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

Message = str | Callable[[], str] | None


class NeverHappened(AssertionError):
    """What a test waited for did not happen within its timeout."""


def _failure(message: Message, timeout: float, last: object, error: BaseException | None) -> str:
    what = message() if callable(message) else message
    text = f"waited {timeout:g} s for {what or 'a condition'}, in vain"
    if error is not None:
        return f"{text}; last attempt raised {type(error).__name__}: {error}"
    return f"{text}; last value: {last!r}"


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: Message = None,
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``check`` until it returns a truthy value and return that value.

    Exceptions listed in ``retry_on`` mean "not yet"; any other propagates at once (so a
    check can fail fast, e.g. when the process it waits for died). ``message`` says what is
    awaited; a callable is evaluated only on failure, to show the latest state.
    """
    deadline = time.monotonic() + timeout
    while True:
        error: BaseException | None = None
        last: object = None
        try:
            value = check()
        except retry_on as exc:
            error = exc
        else:
            if value:
                return value
            last = value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NeverHappened(_failure(message, timeout, last, error)) from error
        time.sleep(min(interval, remaining))


async def eventually_async(
    check: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: Message = None,
) -> T:
    """:func:`eventually` inside an event loop: the loop keeps running between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NeverHappened(_failure(message, timeout, value, None))
        await asyncio.sleep(min(interval, remaining))
