"""The broker's background tasks: periodic work on the event loop, and stopping it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel ``task`` (if any) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@dataclass(eq=False)
class PeriodicTask:
    """Awaits ``step()`` every ``interval`` seconds between :meth:`start` and :meth:`stop`.

    A failing step is logged with ``failure`` (a sentence: what failed) and retried next
    round: a Redis or database hiccup must not end the loop. ``wake``, when given, starts a
    round early once it is set. An ``interval`` of 0 or less means never: :meth:`start` does
    nothing.
    """

    step: Callable[[], Awaitable[object]]
    interval: float
    failure: str
    _: KW_ONLY
    wake: asyncio.Event | None = None
    logger: logging.Logger = log
    _task: asyncio.Task | None = field(default=None, init=False, repr=False)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the rounds (on the running loop); a no-op when running or disabled."""
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Cancel the rounds and wait until the current one has ended; may start again."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            await self._pause()
            try:
                await self.step()
            except Exception:
                self.logger.exception(self.failure)

    async def _pause(self) -> None:
        if self.wake is None:
            await asyncio.sleep(self.interval)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wake.wait(), self.interval)
        self.wake.clear()


class PeriodicWork:
    """A broker component whose background work is one :class:`PeriodicTask`: ``rounds``."""

    rounds: PeriodicTask

    def start(self) -> None:
        self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()
