"""The delivery core without a server: hub, unserved hold, frames."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from dasf_jupyter.broker import frames
from dasf_jupyter.broker.hub import MemoryHub
from dasf_jupyter.broker.subscriptions import subscription_key, subscription_name_error
from dasf_jupyter.broker.unserved import UnservedHold
from dasf_jupyter.errors import ProtocolError


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def request(context: int, response_topic: str = "caller_r") -> dict:
    return {
        "payload": "e30=",
        "properties": {
            "messageType": "request",
            "requestContext": context,
            "response_topic": response_topic,
        },
    }


def test_memory_hub_splits_a_subscription_and_copies_to_each_subscription():
    async def scenario():
        hub = MemoryHub()
        a1 = await hub.attach("t", "shared")
        a2 = await hub.attach("t", "shared")
        other = await hub.attach("t", "other")
        counts = [await hub.publish("t", f"m{i}") for i in range(4)]
        shared = [await a1.get() for _ in range(4)]  # one queue: either socket may take
        assert a2 is not a1
        return counts, shared, [await other.get() for _ in range(4)]

    counts, shared, other = run(scenario())
    assert counts == [2, 2, 2, 2]
    assert shared == other == ["m0", "m1", "m2", "m3"]


def test_memory_hub_forgets_a_subscription_when_its_last_consumer_leaves():
    async def scenario():
        hub = MemoryHub()
        first = await hub.attach("t", "s")
        second = await hub.attach("t", "s")
        await first.close()
        assert await hub.subscriptions("t") == ["s"]
        await second.close()
        return await hub.subscriptions("t"), await hub.publish("t", "lost")

    assert run(scenario()) == ([], 0)


def test_held_request_is_delivered_when_a_consumer_attaches():
    async def scenario():
        hub = MemoryHub()
        hold = UnservedHold(hub, timeout=10)
        frame = request(1)
        await hold.hold("backend", frame, json.dumps(frame))
        receiver = await hub.attach("backend", "b")
        await hold.check()
        return hold.count, json.loads(await receiver.get())

    count, delivered = run(scenario())
    assert count == 0
    assert delivered["properties"]["requestContext"] == 1


def test_expired_request_is_answered_with_an_error_response():
    async def scenario():
        hub = MemoryHub()
        caller = await hub.attach("caller_r", "client")
        hold = UnservedHold(hub, timeout=0.05)
        await hold.hold("backend", request(7), "{}")
        await asyncio.sleep(0.1)  # the time under test: past the hold's 0.05 s
        await hold.check()
        return hold.count, json.loads(await caller.get())

    count, reply = run(scenario())
    assert count == 0
    assert reply["properties"] == {
        "messageType": "response",
        "status": "error",
        "requestContext": 7,
        "source_topic": "backend",
    }
    text = base64.b64decode(reply["payload"]).decode()
    assert text == "no backend module consumed topic 'backend' within 0.05 s"


def test_full_hold_answers_at_once_instead_of_growing():
    async def scenario():
        hub = MemoryHub()
        caller = await hub.attach("caller_r", "client")
        hold = UnservedHold(hub, timeout=60, max_count=2)
        for i in range(3):
            await hold.hold("backend", request(i), "{}")
        return hold.count, json.loads(await caller.get())

    count, reply = run(scenario())
    assert count == 2
    assert reply["properties"]["requestContext"] == 2
    assert "too many unserved requests" in base64.b64decode(reply["payload"]).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "null",
        "42",
        '{"payload": []}',
        '{"properties": "x"}',
        '{"messageId": 5}',
        "[" * 100_000,
        '{"n": ' + "9" * 5000 + "}",
        b'{"payload": "\xff"}',
    ],
    ids=lambda text: repr(text)[:24],
)
def test_malformed_publish_frames_raise_protocol_errors(text):
    with pytest.raises(ProtocolError, match="^invalid message: "):
        frames.parse_publish(text)


def test_delivery_keeps_the_publishers_object_and_adds_id_and_time():
    frame = {"payload": "", "properties": {"n": 1}, "context": 3, "extra": True}
    out = json.loads(frames.delivery_text(frame, "id-1", "2024-01-01T00:00:00+00:00"))
    assert out == {**frame, "messageId": "id-1", "publishTime": "2024-01-01T00:00:00+00:00"}


def test_subscription_names_of_reference_clients_are_valid_and_keys_are_short():
    for name in (
        "backend-module-2024-05-01T12:00:00",
        "web-frontend-2024-05-01T12:00:00.000Z",
        "python-backend-2024-05-01T12:00:00.000001",
    ):
        assert subscription_name_error(name) is None
    assert subscription_name_error("a b") is not None
    assert subscription_key("t", "s") != subscription_key("t", "s2")
    assert len(subscription_key("t" * 200, "s" * 200)) < 40


def test_memory_hub_cuts_off_a_subscription_that_fell_too_far_behind():
    async def scenario():
        hub = MemoryHub(max_backlog=2)
        stuck = await hub.attach("t", "stuck")
        reasons = []
        stuck.on_overflow = reasons.append
        counts = [await hub.publish("t", f"m{i}") for i in range(4)]
        return counts, reasons, stuck._backlog.count

    counts, reasons, left = run(scenario())
    assert counts == [1, 1, 0, 0]
    assert len(reasons) == 1 and "too slow" in reasons[0]
    assert left == 0  # the backlog is freed at once


def test_memory_hub_bounds_a_backlog_by_size_but_always_takes_one_message():
    async def scenario():
        hub = MemoryHub(max_backlog_chars=10)
        stuck = await hub.attach("t", "stuck")
        reasons = []
        stuck.on_overflow = reasons.append
        first = await hub.publish("t", "x" * 50)  # larger than the bound, but alone
        second = await hub.publish("t", "y")
        return first, second, reasons

    first, second, reasons = run(scenario())
    assert (first, second) == (1, 0)
    assert reasons


def test_stopping_the_hold_answers_every_held_request():
    async def scenario():
        hub = MemoryHub()
        caller = await hub.attach("caller_r", "client")
        hold = UnservedHold(hub, timeout=60)
        hold.start()
        await hold.hold("backend", request(4), "{}")
        await hold.stop()
        return hold.count, json.loads(await caller.get())

    count, reply = run(scenario())
    assert count == 0
    assert reply["properties"]["requestContext"] == 4
    assert "before the broker shut down" in base64.b64decode(reply["payload"]).decode()


@pytest.mark.redis
def test_redis_hub_queues_once_per_subscription_and_splits_within_one(redis_url):
    import uuid

    from dasf_jupyter.broker.hub import RedisHub

    async def scenario():
        hub = RedisHub(redis_url, prefix=f"dasf-unit-{uuid.uuid4().hex[:10]}")
        await hub.start()
        try:
            first = await hub.attach("t", "shared")
            second = await hub.attach("t", "shared")
            other = await hub.attach("t", "other")
            counts = [await hub.publish("t", f"m{i}") for i in range(4)]
            shared = [await first.get(), await second.get(), await first.get()]
            shared.append(await second.get())
            copies = [await other.get() for _ in range(4)]
            leftover = await first.get()  # polls once, then None: nothing was duplicated
            subs = await hub.subscriptions("t")
            for receiver in (first, second, other):
                await receiver.close()
            return counts, shared, copies, leftover, subs, await hub.subscriptions("t")
        finally:
            await hub.stop()

    counts, shared, copies, leftover, subs, after = run(scenario())
    assert counts == [2, 2, 2, 2]
    assert shared == copies == ["m0", "m1", "m2", "m3"]
    assert leftover is None
    assert subs == ["other", "shared"] and after == []


def test_reference_backend_subscriptions_map_to_the_shared_one_and_nothing_else_does():
    from dasf_jupyter.broker.subscriptions import shared_subscription

    assert shared_subscription("backend-module-2026-11-29T14:03:07") == "backend-module"
    for name in (
        "backend-module",
        "backend-module-1",
        "backend-module-2026-11-29T14:03:07.123456",
        "python-backend-2026-11-29T14:03:07.123456",
        "blue",
    ):
        assert shared_subscription(name) == name
