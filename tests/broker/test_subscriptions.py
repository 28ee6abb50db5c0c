"""Subscriptions, unserved requests and liveness probes of our broker (real sockets)."""

from __future__ import annotations

import base64
import json
import signal
import time
import urllib.request
import uuid
from collections import Counter

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.brokerfixtures import publish_frame, recv_json, recv_messages
from tests.waiting import eventually


def unique_topic(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def drain(ws, idle: float = 1.0) -> list[dict]:
    """All frames until none arrives for ``idle`` seconds (probes skipped)."""
    out = []
    try:
        for frame in recv_messages(ws, timeout=idle):
            out.append(frame)
    except TimeoutError:
        pass
    return out


def publish_many(producer, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        producer.send(publish_frame(context=i, message_type="log"))
        assert recv_json(producer)["result"] == "ok"


def test_consumers_sharing_a_subscription_split_the_messages(broker_url):
    topic = unique_topic()
    with (
        connect(f"{broker_url}/{topic}/shared") as a,
        connect(f"{broker_url}/{topic}/shared") as b,
        connect(f"{broker_url}/{topic}") as producer,
    ):
        publish_many(producer, 100)
        got_a, got_b = drain(a), drain(b)
    contexts = Counter(m["context"] for m in got_a + got_b)
    assert sorted(contexts) == list(range(100))
    assert set(contexts.values()) == {1}  # none duplicated
    assert got_a and got_b  # both took part


def test_different_subscriptions_each_get_every_message(broker_url):
    topic = unique_topic()
    with (
        connect(f"{broker_url}/{topic}/one") as one,
        connect(f"{broker_url}/{topic}/two") as two,
        connect(f"{broker_url}/{topic}") as producer,
    ):
        producer.send(publish_frame(context=0, message_type="log"))
        assert recv_json(producer)["consumers"] == 2
        publish_many(producer, 29, start=1)
        for ws in (one, two):
            assert [m["context"] for m in drain(ws)] == list(range(30))


def test_remaining_consumer_gets_everything_after_its_peer_closes(broker_url):
    topic = unique_topic()
    with (
        connect(f"{broker_url}/{topic}/shared") as stays,
        connect(f"{broker_url}/{topic}") as producer,
    ):
        with connect(f"{broker_url}/{topic}/shared"):
            pass
        publish_many(producer, 50)
        assert sorted(m["context"] for m in drain(stays)) == list(range(50))


def test_message_to_topic_without_consumer_is_acked_with_zero_consumers(broker_url):
    with connect(f"{broker_url}/{unique_topic()}") as producer:
        producer.send(publish_frame(context=1, message_type="log"))
        ack = recv_json(producer)
    assert ack["result"] == "ok" and ack["consumers"] == 0


@pytest.fixture
def quick_unserved_broker(start_broker):
    return start_broker(env={"DASF_UNSERVED_TIMEOUT": "1.5"})


def test_unserved_request_fails_within_timeout(quick_unserved_broker):
    url = quick_unserved_broker.url
    topic = unique_topic("nobody")
    response_topic = f"{topic}_caller"
    with (
        connect(f"{url}/{response_topic}/client-1") as replies,
        connect(f"{url}/{topic}") as producer,
    ):
        producer.send(
            publish_frame("e30=", context=5, requestContext=5, response_topic=response_topic)
        )
        assert recv_json(producer)["consumers"] == 0
        reply = next(recv_messages(replies, timeout=15))
    props = reply["properties"]
    assert props["messageType"] == "response"
    assert props["status"] == "error"
    assert props["requestContext"] == 5
    assert props["source_topic"] == topic
    text = base64.b64decode(reply["payload"]).decode()
    assert text == f"no backend module consumed topic '{topic}' within 1.5 s"


def test_unserved_request_is_delivered_when_a_consumer_subscribes_in_time(
    quick_unserved_broker,
):
    url = quick_unserved_broker.url
    topic = unique_topic("late")
    with connect(f"{url}/{topic}") as producer:
        producer.send(
            publish_frame("e30=", context=1, requestContext=1, response_topic=f"{topic}_y")
        )
        assert recv_json(producer)["consumers"] == 0
        with connect(f"{url}/{topic}/backend") as backend:
            request = next(recv_messages(backend, timeout=10))
    assert request["properties"]["messageType"] == "request"
    assert request["payload"] == "e30="


def test_consumer_of_backend_topic_is_probed_and_replies_are_recorded(broker_url):
    topic = unique_topic("backend")
    api_info = {"classes": [], "functions": [{"name": "add"}], "rpc_schema": {}}
    with connect(f"{broker_url}/{topic}/backend-module-1") as backend:
        probes = [recv_json(backend), recv_json(backend)]
        types = sorted(p["properties"]["messageType"] for p in probes)
        assert types == ["api_info", "ping"]
        assert {p["properties"]["response_topic"] for p in probes} == {"status-ping"}
        with connect(f"{broker_url}/status-ping") as sink:
            for props in (
                {"messageType": "pong"},
                {"messageType": "response", "api_info": json.dumps(api_info)},
            ):
                props.update(requestContext="1", source_topic=topic)
                sink.send(json.dumps({"payload": "", "context": "1", "properties": props}))
                assert recv_json(sink)["result"] == "ok"
        info = topic_json(broker_url, topic)
        assert info["online"] is True
        assert info["api_info"] == api_info
        assert info["last_ping"] is not None
    # the backend's socket closed: offline at once, what it announced is kept

    def offline() -> dict | None:
        now = topic_json(broker_url, topic)
        return now if now["online"] is False else None

    info = eventually(offline, timeout=10, message="the topic to go offline")
    assert info["api_info"] == api_info


def topic_json(broker_url: str, topic: str) -> dict:
    base = broker_url.replace("ws://", "http://").rsplit("/ws", 1)[0]
    with urllib.request.urlopen(f"{base}/api/topics/{topic}/", timeout=10) as response:
        return json.load(response)


def test_client_response_topic_consumer_is_not_probed(broker_url):
    topic = unique_topic("served")
    with connect(f"{broker_url}/{topic}/backend-module-1") as backend:
        recv_json(backend), recv_json(backend)  # the backend's own probes
        with (
            connect(f"{broker_url}/{topic}_abcdEFGH/python-backend-1") as client,
            pytest.raises(TimeoutError),
        ):
            client.recv(timeout=1.0)


def test_periodic_pings_reach_backend_consumers(start_broker):
    broker = start_broker(env={"DASF_PING_INTERVAL": "0.5"})
    with connect(f"{broker.url}/{unique_topic('pinged')}/backend") as backend:
        seen = Counter()
        deadline = time.monotonic() + 10
        while seen["ping"] < 3 and time.monotonic() < deadline:
            seen[recv_json(backend)["properties"]["messageType"]] += 1
    assert seen["ping"] >= 3


def test_graceful_stop_closes_consumer_sockets(start_broker):
    broker = start_broker()
    with connect(f"{broker.url}/{unique_topic()}/s") as consumer:
        # uvicorn re-raises the SIGTERM it handled, after its graceful shutdown
        assert broker.stop() in (0, -signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            while True:
                consumer.recv(timeout=10)
    assert info.value.rcvd is not None, "the broker closed the socket with a close frame"
    assert info.value.rcvd.code in (1001, 1012)


def response_topics(broker) -> list[str]:
    code = (
        "import json; from dasf_jupyter.broker.models import Topic;"
        "names = Topic.objects.filter(is_response_topic=True).values_list('name', flat=True);"
        "print('TOPICS', json.dumps(sorted(names)))"
    )
    result = broker.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    line = [x for x in result.stdout.splitlines() if x.startswith("TOPICS ")][-1]
    return json.loads(line.removeprefix("TOPICS "))


def test_stale_response_topics_are_collected_unless_someone_listens(start_broker):
    broker = start_broker(env={"DASF_GC_INTERVAL": "0.5", "DASF_RESPONSE_TOPIC_MAX_AGE": "1"})
    topic = unique_topic("gc")
    with (
        connect(f"{broker.url}/{topic}_listening/client") as listening,
        connect(f"{broker.url}/{topic}") as producer,
    ):
        for suffix in ("listening", "gone"):
            producer.send(
                publish_frame(
                    "e30=", context=1, requestContext=1, response_topic=f"{topic}_{suffix}"
                )
            )
            assert recv_json(producer)["result"] == "ok"
        # an "ok" ack means both response topics were registered (created) by the broker
        eventually(
            lambda: response_topics(broker) == [f"{topic}_listening"],
            timeout=20,
            interval=0.5,
            message=lambda: f"only the listening response topic, not {response_topics(broker)}",
        )
        listening.ping()
