"""The suite's waiting helper returns what it waited for, or says what never happened."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.waiting import NeverHappened, eventually, eventually_async


def test_eventually_returns_the_first_truthy_value():
    counter = itertools.count()
    assert eventually(lambda: next(counter) >= 3 and "done", interval=0) == "done"


def test_eventually_fails_saying_what_was_awaited_and_the_last_value():
    with pytest.raises(NeverHappened, match=r"waited 0.05 s for the answer.*last value: \[\]"):
        eventually(list, timeout=0.05, message="the answer")


def test_listed_exceptions_mean_not_yet_and_others_fail_at_once():
    attempts = itertools.count()

    def flaky() -> int:
        if next(attempts) < 2:
            raise ConnectionError("not up")
        return 42

    assert eventually(flaky, interval=0, retry_on=(ConnectionError,)) == 42

    def down() -> None:
        raise ConnectionError("down")

    with pytest.raises(NeverHappened, match="ConnectionError: down") as failed:
        eventually(down, timeout=0.05, retry_on=(OSError,))
    assert isinstance(failed.value.__cause__, ConnectionError)
    with pytest.raises(KeyError):
        eventually(lambda: {}["missing"], retry_on=(ConnectionError,))


def test_eventually_async_awaits_coroutine_checks():
    counter = itertools.count()

    async def check() -> bool:
        return next(counter) >= 2

    assert asyncio.run(eventually_async(check, interval=0)) is True
    with pytest.raises(NeverHappened, match="the loop"):
        asyncio.run(eventually_async(lambda: False, timeout=0.05, message="the loop"))
