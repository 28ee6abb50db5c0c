"""A burst of requests on a shared subscription is taken in turns by its consumers.

A consumer socket's pump takes the next message as soon as it has handed the last one to
uvicorn (acks and queued deliveries are written later, coalesced), so without turns the
first consumer woken by a burst would take all of it and its replicas none.
"""

from __future__ import annotations

import asyncio
import collections

from dasf_jupyter.broker.hub import MemoryHub

BURST = 20


async def _pump(receiver, name: str, taken: list[str], done: asyncio.Event) -> None:
    """Like the consumer socket's pump: no await between handing one over and the next get."""
    while not done.is_set():
        await receiver.get()
        taken.append(name)
        if len(taken) == BURST:
            done.set()


async def _share_a_burst(consumers: int) -> collections.Counter:
    hub = MemoryHub()
    receivers = [await hub.attach("mod", "replicas") for _ in range(consumers)]
    taken: list[str] = []
    done = asyncio.Event()
    pumps = [
        asyncio.create_task(_pump(r, f"replica-{i}", taken, done)) for i, r in enumerate(receivers)
    ]
    await asyncio.sleep(0)  # every pump waits for work
    for i in range(BURST):
        await hub.publish("mod", f'{{"payload":"","properties":{{}},"messageId":"{i}"}}')
    await asyncio.wait_for(done.wait(), timeout=10)
    for pump in pumps:
        pump.cancel()
    await asyncio.gather(*pumps, return_exceptions=True)
    return collections.Counter(taken)


def test_two_replicas_take_a_burst_in_turns():
    counts = asyncio.run(_share_a_burst(2))
    assert counts == {"replica-0": BURST // 2, "replica-1": BURST // 2}


def test_four_replicas_each_take_a_share():
    counts = asyncio.run(_share_a_burst(4))
    assert sorted(counts.values()) == [BURST // 4] * 4


def test_a_lone_consumer_prefetches_the_whole_burst():
    counts = asyncio.run(_share_a_burst(1))
    assert counts == {"replica-0": BURST}
