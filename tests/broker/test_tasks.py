"""PeriodicTask: the one loop behind the broker's background work (no broker needed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest

from dasf_jupyter.broker.tasks import PeriodicTask
from tests.waiting import eventually_async


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    await eventually_async(condition, timeout=timeout, interval=0.005, message=what)


def test_a_failing_round_is_logged_and_the_next_round_runs(caplog):
    rounds: list[int] = []

    async def step() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("redis away")

    async def scenario() -> None:
        task = PeriodicTask(step, 0.01, "counting failed")
        task.start()
        await until(lambda: len(rounds) >= 3, "three rounds")
        assert task.running
        await task.stop()
        assert not task.running

    with caplog.at_level(logging.ERROR, logger="dasf_jupyter.broker.tasks"):
        asyncio.run(scenario())
    (record,) = [r for r in caplog.records if r.getMessage() == "counting failed"]
    assert record.exc_info is not None and "redis away" in str(record.exc_info[1])


def test_stop_waits_for_the_round_in_progress_and_no_round_follows():
    events: list[str] = []

    async def step() -> None:
        events.append("begin")
        try:
            await asyncio.sleep(10)
        finally:
            events.append("end")

    async def scenario() -> None:
        task = PeriodicTask(step, 0.01, "unused")
        task.start()
        await until(lambda: events == ["begin"], "a round to begin")
        await task.stop()
        assert events == ["begin", "end"]  # the round was cancelled and had ended
        await asyncio.sleep(0.05)  # the behaviour under test: nothing runs after stop()
        assert events == ["begin", "end"]
        await task.stop()  # stopping twice is harmless

    asyncio.run(scenario())


def test_a_task_can_start_again_after_stop():
    rounds: list[float] = []

    async def step() -> None:
        rounds.append(time.monotonic())

    async def scenario() -> None:
        task = PeriodicTask(step, 0.01, "unused")
        task.start()
        task.start()  # a second start does not add a second loop
        await until(lambda: len(rounds) >= 2, "two rounds")
        await task.stop()
        seen = len(rounds)
        task.start()
        await until(lambda: len(rounds) >= seen + 2, "rounds after a restart")
        await task.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("interval", [0, -1])
def test_an_interval_of_zero_or_less_never_starts(interval):
    async def step() -> None:
        raise AssertionError("must not run")

    async def scenario() -> None:
        task = PeriodicTask(step, interval, "unused")
        task.start()
        assert not task.running
        await task.stop()

    asyncio.run(scenario())


def test_setting_wake_starts_a_round_before_the_interval():
    rounds: list[float] = []
    wake = asyncio.Event()

    async def step() -> None:
        rounds.append(time.monotonic())

    async def scenario() -> float:
        task = PeriodicTask(step, 60.0, "unused", wake=wake)
        task.start()
        await asyncio.sleep(0)  # let the loop begin its wait
        woken = time.monotonic()
        wake.set()
        await until(lambda: len(rounds) == 1, "a woken round", timeout=5.0)
        assert not wake.is_set()  # cleared for the next wake-up
        await task.stop()
        return rounds[0] - woken

    assert asyncio.run(scenario()) < 5.0
