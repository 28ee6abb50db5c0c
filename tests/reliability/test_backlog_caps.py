"""Many stalled subscriptions together cannot exhaust the broker's (or Redis's) memory.

Each subscription has its own cap (DASF_MAX_BACKLOG_BYTES); these tests show the global
cap over all of them (DASF_MAX_BACKLOG_TOTAL): the largest backlogs are cut off first, their
consumers are closed with the reason, and a publish that finds no room gets a refusal ack.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from tests.brokerfixtures import publish_frame, scaled_out_brokers
from tests.waiting import eventually
from tests.wsclient import open_websocket

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

MiB = 1 << 20


def connect(url: str, **options):
    return open_websocket(url, max_size=None, open_timeout=10, **options)


def stalled_consumer(url: str):
    """A consumer that stops reading at once (max_queue=1), like a stuck process."""
    return connect(url, max_queue=1)


def publish_all(producer, count: int, payload: str) -> list[str]:
    """Publish ``count`` messages; return the ack results."""
    results = []
    for i in range(count):
        producer.send(publish_frame(payload, context=i, message_type="progress"))
        results.append(json.loads(producer.recv(timeout=60))["result"])
    return results


def close_reason(ws, timeout: float = 30) -> tuple[int, str]:
    """Read until the broker closes the socket; its close code and reason."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.1, deadline - time.monotonic()))
    assert closed.value.rcvd is not None, "the broker did not send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


class PeakRss:
    """The highest RSS of a process, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        return self.peak - self.baseline


def test_five_stalled_subscriptions_of_100_mb_stay_under_the_global_cap(start_broker):
    """Realistic traffic (5 x 100 MiB for stalled consumers), a 128 MiB global cap."""
    cap = 128 * MiB
    broker = start_broker(env={"DASF_MAX_BACKLOG_TOTAL": str(cap)})
    topics = [f"backlog{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
    stalled = [stalled_consumer(f"{broker.url}/{t}/stuck") for t in topics]
    producers = [connect(f"{broker.url}/{t}") for t in topics]
    payload = "A" * MiB  # base64 alphabet; the broker does not decode payloads
    rss = PeakRss(broker.process.pid)
    try:
        for producer in producers:
            # each publish fits: the largest backlogs (the stalled ones) are cut off
            assert publish_all(producer, 100, payload) == ["ok"] * 100
        growth = rss.stop()
        print(f"broker RSS growth, 5 stalled x 100 MiB: {growth / MiB:.0f} MiB (cap 128 MiB)")
        # without the global cap all 500 MiB stay queued (each subscription is under its own)
        assert growth < cap + 96 * MiB, f"the broker grew by {growth / MiB:.0f} MiB"
        # the stalled consumers that were cut off learn why when they read again
        for ws in stalled[:3]:
            code, reason = close_reason(ws)
            assert code == 1008 and "broker backlog full" in reason, (code, reason)
    finally:
        rss.stop()
        for ws in stalled + producers:
            ws.close()


def test_a_healthy_consumer_is_not_cut_off_by_the_global_cap(start_broker):
    """Scaled down: a stalled subscription fills the cap; its publisher is refused, the stalled
    consumer is closed with the reason and a reading consumer loses nothing."""
    broker = start_broker(env={"DASF_MAX_BACKLOG_TOTAL": str(8 * MiB)})
    stuck_topic, live_topic = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("stuck", "live"))
    stalled = stalled_consumer(f"{broker.url}/{stuck_topic}/stuck")
    healthy = connect(f"{broker.url}/{live_topic}/reader")
    stuck_producer = connect(f"{broker.url}/{stuck_topic}")
    live_producer = connect(f"{broker.url}/{live_topic}")
    received = []

    def read() -> None:
        try:
            while True:
                frame = json.loads(healthy.recv(timeout=30))
                if frame["properties"].get("messageType") == "progress":
                    received.append(frame["context"])
        except (ConnectionClosed, TimeoutError):
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # 20 MiB for a stalled consumer: once its own backlog is the largest, no room is left
        stuck = publish_all(stuck_producer, 40, "B" * (MiB // 2))
        refused = [r for r in stuck if r != "ok"]
        assert refused and all("backlog" in r and "8 MiB" in r for r in refused), stuck
        results = publish_all(live_producer, 50, "C" * (64 * 1024))
        assert results == ["ok"] * 50
        eventually(
            lambda: len(received) >= 50,
            timeout=20,
            message=lambda: f"50, not {len(received)} received",
        )
        assert len(received) == 50
        code, reason = close_reason(stalled)
        assert code == 1008 and ("backlog full" in reason or "too slow" in reason), reason
    finally:
        for ws in (stalled, healthy, stuck_producer, live_producer):
            ws.close()


def queued_bytes(redis_url: str, prefix: str) -> int:
    """Bytes in all subscription queues of a Redis prefix."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        total = 0
        for key in client.scan_iter(f"{prefix}:q.*"):
            total += sum(len(item) for item in client.lrange(key, 0, -1))
        return total
    finally:
        client.close()


def test_redis_queues_are_bounded_in_total_not_only_by_expiry(tmp_path):
    """Scaled down, two brokers on Redis: stalled consumers on A, publisher on B."""
    cap = 8 * MiB
    env = {"DASF_MAX_BACKLOG_TOTAL": str(cap)}
    with scaled_out_brokers(tmp_path, "backlog", env) as (a, b):
        prefix = a.extra_env["DASF_REDIS_PREFIX"]
        redis_url = a.extra_env["REDIS_URL"]
        topics = [f"rbacklog{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
        stalled = [stalled_consumer(f"{a.url}/{t}/stuck") for t in topics]
        producers = [connect(f"{b.url}/{t}") for t in topics]
        try:
            # 20 MiB to the first (its own backlog becomes the largest: refused), 8 to others
            results = publish_all(producers[0], 20, "D" * MiB)
            for producer in producers[1:]:
                publish_all(producer, 8, "D" * MiB)
            held = queued_bytes(redis_url, prefix)
            print(f"bytes queued in Redis: {held / MiB:.1f} MiB (cap 8 MiB)")
            assert held <= cap + MiB + 4096, f"{held / MiB:.1f} MiB queued"
            assert any(r != "ok" and "backlog" in r for r in results), results
            code, reason = close_reason(stalled[0])
            assert code == 1008 and "backlog full" in reason, (code, reason)
        finally:
            for ws in stalled + producers:
                ws.close()


def test_redis_queues_are_bounded_per_subscription(tmp_path):
    """DASF_MAX_BACKLOG_BYTES holds for Redis queues too (before: only a 600 s expiry)."""
    env = {"DASF_MAX_BACKLOG_BYTES": str(4 * MiB)}
    with scaled_out_brokers(tmp_path, "backlog1", env) as (a, b):
        prefix = a.extra_env["DASF_REDIS_PREFIX"]
        topic = f"rqueue-{uuid.uuid4().hex[:6]}"
        stalled = stalled_consumer(f"{a.url}/{topic}/stuck")
        producer = connect(f"{b.url}/{topic}")
        try:
            publish_all(producer, 12, "E" * MiB)
            held = queued_bytes(a.extra_env["REDIS_URL"], prefix)
            assert held <= 4 * MiB + 4096, f"{held / MiB:.1f} MiB queued"
            code, reason = close_reason(stalled)
            assert code == 1008 and "too slow" in reason, (code, reason)
        finally:
            stalled.close()
            producer.close()
