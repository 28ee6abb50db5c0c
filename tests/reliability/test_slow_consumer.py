"""A consumer that stops reading cannot exhaust broker memory; it is cut off with a reason."""

from __future__ import annotations

import json
import threading

import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from tests.brokerfixtures import publish_frame
from tests.wsclient import open_websocket

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

MB = 1 << 20
BACKLOG_LIMIT = 16 * MB
MESSAGES = 200  # x 1 MB: far beyond the limit


def connect(url: str, **options):
    return open_websocket(url, max_size=None, open_timeout=10, **options)


def read_all(ws, counts: dict, key: str) -> None:
    """Count deliveries until the socket closes (probes excluded)."""
    try:
        while True:
            frame = json.loads(ws.recv(timeout=60))
            if frame.get("properties", {}).get("response_topic") != "status-ping":
                counts[key] += 1
    except (ConnectionClosed, TimeoutError):
        pass


def test_a_stalled_consumer_is_dropped_with_a_reason_and_memory_stays_bounded(start_broker):
    broker = start_broker(env={"DASF_MAX_BACKLOG_BYTES": str(BACKLOG_LIMIT)})
    rss = psutil.Process(broker.process.pid)
    base = f"{broker.url}/slowtopic"
    payload = "A" * MB  # base64 alphabet; the broker does not decode payloads
    # max_queue=1: the client library stops reading the socket at once, like a stuck process
    stalled = connect(f"{base}/stalled", max_queue=1)
    healthy = connect(f"{base}/healthy")
    producer = connect(base)
    counts = {"healthy": 0}
    reader = threading.Thread(target=read_all, args=(healthy, counts, "healthy"), daemon=True)
    reader.start()
    try:
        baseline = rss.memory_info().rss
        peak = baseline
        for i in range(MESSAGES):
            producer.send(publish_frame(payload, context=i, message_type="progress"))
            ack = json.loads(producer.recv(timeout=30))
            assert ack["result"] == "ok"
            peak = max(peak, rss.memory_info().rss)
        growth = peak - baseline
        print(f"broker RSS growth while {MESSAGES} MB were published: {growth / MB:.1f} MB")
        # without the bound the backlog alone would be MESSAGES MB
        assert growth < 6 * BACKLOG_LIMIT + 32 * MB, f"broker grew by {growth / MB:.0f} MB"

        # the stalled consumer finally reads: some messages, then the close with its reason
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                stalled.recv(timeout=30)
        assert closed.value.rcvd is not None, "the broker did not send a close frame"
        assert closed.value.rcvd.code == 1008
        assert "too slow" in closed.value.rcvd.reason

        producer.close()
        healthy.close()
        reader.join(30)
        assert counts["healthy"] == MESSAGES  # a reading consumer lost nothing
    finally:
        for ws in (stalled, healthy, producer):
            ws.close()
