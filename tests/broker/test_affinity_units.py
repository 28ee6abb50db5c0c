"""Hub internals of issue 14: fragment affinity, request deadlines, broker heartbeats."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from dasf_jupyter.broker.hub import MemoryHub, RedisHub
from dasf_jupyter.broker.inflight import mark_delivery, route_of
from dasf_jupyter.broker.inflight_store import RedisInFlight
from dasf_jupyter.protocol.deadline import ttl_of
from tests.waiting import eventually_async


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def fragment(context: int, index: int, total: int, ttl: float | None = None) -> str:
    props = {
        "messageType": "request",
        "requestContext": str(context),
        "response_topic": "caller_r",
        "fragment": index,
        "num_fragments": total,
    }
    if ttl is not None:
        props["dasf_ttl"] = str(ttl)
    frame = {"payload": f"{context}-{index}", "properties": props}
    return mark_delivery(json.dumps(frame), frame)


def request(context: int, ttl: float | None = None) -> str:
    props = {"messageType": "request", "requestContext": str(context), "response_topic": "c_r"}
    if ttl is not None:
        props["dasf_ttl"] = ttl
    frame = {"payload": "e30=", "properties": props}
    return mark_delivery(json.dumps(frame), frame)


async def _drain(receivers, expected: int) -> list[list[str]]:
    got: list[list[str]] = [[] for _ in receivers]
    while sum(map(len, got)) < expected:
        for i, receiver in enumerate(receivers):
            try:
                text = await asyncio.wait_for(receiver.get(), 0.05)
            except asyncio.TimeoutError:
                continue
            if text is not None:
                got[i].append(json.loads(text)["payload"])
    return got


def _interleaved() -> list[str]:
    """Fragments of three requests, published interleaved, as several callers would."""
    return [fragment(c, i, 4) for i in range(4) for c in (1, 2, 3)]


def _assert_each_request_on_one_consumer(got: list[list[str]]) -> None:
    owners: dict[str, set[int]] = {}
    for i, payloads in enumerate(got):
        for payload in payloads:
            owners.setdefault(payload.split("-")[0], set()).add(i)
    assert sorted(owners) == ["1", "2", "3"]
    assert all(len(o) == 1 for o in owners.values()), owners


def test_memory_hub_sends_all_fragments_of_a_request_to_one_consumer():
    async def scenario():
        hub = MemoryHub()
        receivers = [await hub.attach("t", "shared") for _ in range(3)]
        for text in _interleaved():
            assert await hub.publish("t", text) == 1
        return await _drain(receivers, 12)

    _assert_each_request_on_one_consumer(run(scenario()))


def test_memory_hub_returns_a_closed_consumers_fragments_as_undelivered():
    async def scenario():
        hub = MemoryHub()
        first = await hub.attach("t", "shared")
        second = await hub.attach("t", "shared")
        await hub.publish("t", fragment(1, 0, 2))
        dropped = (await first.close() or []) + (await second.close() or [])
        return [route_of(t) for t in dropped]

    assert run(scenario()) == [("caller_r", "1")]


def test_a_request_past_its_deadline_is_never_delivered_by_the_memory_hub():
    async def scenario():
        hub = MemoryHub()
        receiver = await hub.attach("t", "backend")
        await hub.publish("t", request(1, ttl=0.2))
        await hub.publish("t", request(2, ttl=60))
        await asyncio.sleep(0.4)  # the time under test: request 1 outlives its deadline
        first = await receiver.get()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(receiver.get(), 0.3)
        return route_of(first)

    assert run(scenario()) == ("c_r", "2")


def test_ttl_values_that_are_not_sane_numbers_mean_no_deadline():
    assert ttl_of({"dasf_ttl": "12.5"}) == 12.5
    assert ttl_of({"dasf_ttl": -3}) == 0.0
    for bad in ("soon", None, True, "nan", "inf", [1], 10**9):
        assert ttl_of({"dasf_ttl": bad}) is None


@pytest.mark.redis
def test_redis_hub_sends_all_fragments_of_a_request_to_one_consumer_of_any_process(redis_url):
    prefix = f"dasf-unit-{uuid.uuid4().hex[:10]}"

    async def scenario():
        hubs = [RedisHub(redis_url, prefix=prefix) for _ in range(2)]
        for hub in hubs:
            await hub.start()
        try:
            receivers = [await hubs[i % 2].attach("t", "shared") for i in range(3)]
            for text in _interleaved():
                assert await hubs[1].publish("t", text) == 1
            got = await _drain(receivers, 12)
            for receiver in receivers:
                await receiver.close()
            return got
        finally:
            for hub in hubs:
                await hub.stop()

    _assert_each_request_on_one_consumer(run(scenario()))


@pytest.mark.redis
def test_redis_hub_drops_expired_requests_and_skips_consumers_of_dead_brokers(redis_url):
    prefix = f"dasf-unit-{uuid.uuid4().hex[:10]}"

    async def scenario():
        alive = RedisHub(redis_url, prefix=prefix, heartbeat_ttl=1.0)
        dying = RedisHub(redis_url, prefix=prefix, heartbeat_ttl=1.0)
        await alive.start()
        await dying.start()
        try:
            receiver = await alive.attach("t", "backend")
            await alive.publish("t", request(1, ttl=0.1))
            await asyncio.sleep(0.3)  # the time under test: request 1 outlives its deadline
            expired = await receiver.get()  # taken and dropped: None, like an idle poll
            await receiver.close()
            # a "dead" process: its heartbeat task stops, its registry entry stays 30 s
            await dying.attach("t2", "backend")
            await dying._refresher.stop()
            before = await alive.publish("t2", request(2))
            queued = before

            async def no_work_for_the_dead() -> bool:
                nonlocal queued
                count = await alive.publish("t2", request(3))
                queued += count
                return count == 0

            await eventually_async(
                no_work_for_the_dead,
                timeout=5,
                interval=0.1,
                message="a dead broker's consumer to stop getting work",
            )
            swept = await alive.sweep_dead(dying.process)
            again = await alive.sweep_dead(dying.process)
            routes = [route_of(t) for _, t in swept or []]
            return expired, before, queued, routes, again
        finally:
            await alive.stop()
            await dying.stop()

    expired, before, queued, swept, again = run(scenario())
    assert expired is None
    assert before == 1  # alive at first
    # everything queued for the dead process's consumer is handed over, to be answered
    assert len(swept) == queued and set(swept) == {("c_r", "2"), ("c_r", "3")}
    assert again is None  # claimed once


@pytest.mark.redis
def test_redis_inflight_records_are_cleared_by_any_process_and_taken_for_a_dead_one(redis_url):
    import redis.asyncio as aioredis

    prefix = f"dasf-unit-{uuid.uuid4().hex[:10]}"

    async def scenario():
        client = aioredis.from_url(redis_url)
        try:
            a = RedisInFlight(client, prefix, "proc-a")
            b = RedisInFlight(client, prefix, "proc-b")
            await a.delivered(1, "t", ("r", "1"))
            await a.delivered(1, "t", ("r", "2"))
            await a.delivered(2, "t", ("r", "3"))
            await b.answered(("r", "1"))  # the response went through another process
            taken = await a.take(1)
            dead = await b.take_process("proc-a")
            return taken, dead
        finally:
            await client.aclose()

    taken, dead = run(scenario())
    assert taken == [("t", ("r", "2"))]  # no spurious answer for the call that ended
    assert dead == [("t", ("r", "3"))]
