"""Two broker processes sharing PostgreSQL and Redis serve the same topics."""

from __future__ import annotations

from collections import Counter

import pytest
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.brokerfixtures import publish_frame, recv_json, recv_messages, scaled_out_brokers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def scaled_out_pair(tmp_path_factory):
    """Brokers A and B on a fresh database and a fresh Redis key prefix; removed afterwards."""
    with scaled_out_brokers(tmp_path_factory.mktemp("scaleout"), "scaleout") as pair:
        yield pair


def drain(ws, idle: float = 2.0) -> list[dict]:
    out = []
    try:
        for frame in recv_messages(ws, timeout=idle):
            out.append(frame)
    except TimeoutError:
        pass
    return out


def publish_many(producer, n: int) -> None:
    for i in range(n):
        producer.send(publish_frame(context=i, message_type="log"))
        ack = recv_json(producer)
        assert ack["result"] == "ok", ack


def test_consumer_on_a_receives_what_is_published_on_b(scaled_out_pair):
    a, b = scaled_out_pair
    with connect(f"{a.url}/cross/backend") as consumer, connect(f"{b.url}/cross") as producer:
        producer.send(publish_frame("aGk=", context=1, message_type="log"))
        assert recv_json(producer)["consumers"] == 1
        assert next(recv_messages(consumer))["payload"] == "aGk="


def test_shared_subscription_across_brokers_splits_200_messages_exactly_once(scaled_out_pair):
    a, b = scaled_out_pair
    with (
        connect(f"{a.url}/split/replicas") as on_a,
        connect(f"{b.url}/split/replicas") as on_b,
        connect(f"{b.url}/split") as producer,
    ):
        publish_many(producer, 200)
        got_a, got_b = drain(on_a), drain(on_b)
    contexts = Counter(m["context"] for m in got_a + got_b)
    assert sorted(contexts) == list(range(200)), "none lost"
    assert set(contexts.values()) == {1}, "none duplicated"
    assert got_a and got_b, "both replicas took part"


def test_different_subscriptions_across_brokers_each_get_all_messages(scaled_out_pair):
    a, b = scaled_out_pair
    with (
        connect(f"{a.url}/fanout/first") as first,
        connect(f"{b.url}/fanout/second") as second,
        connect(f"{a.url}/fanout") as producer,
    ):
        publish_many(producer, 200)
        for ws in (first, second):
            assert [m["context"] for m in drain(ws)] == list(range(200))


def test_request_held_on_b_is_delivered_to_a_consumer_connecting_on_a(scaled_out_pair):
    a, b = scaled_out_pair
    with connect(f"{b.url}/late-backend") as producer:
        producer.send(
            publish_frame("e30=", context=1, requestContext=1, response_topic="late-backend_r")
        )
        assert recv_json(producer)["consumers"] == 0
        with connect(f"{a.url}/late-backend/replica") as backend:
            assert next(recv_messages(backend))["payload"] == "e30="


def test_closing_consumer_loses_nothing_of_a_shared_subscription(scaled_out_pair):
    a, b = scaled_out_pair
    with connect(f"{a.url}/churn/shared") as stays, connect(f"{b.url}/churn") as producer:
        for _ in range(3):
            with connect(f"{b.url}/churn/shared"):
                pass  # closes while its pump may be waiting on Redis
        publish_many(producer, 100)
        assert sorted(m["context"] for m in drain(stays)) == list(range(100))


def test_killed_broker_does_not_cost_the_other_replica_any_message(scaled_out_pair, tmp_path):
    a, _ = scaled_out_pair
    c = BrokerProcess(data_dir=tmp_path / "c", env=a.extra_env).start()
    try:
        with (
            connect(f"{a.url}/crash/shared") as survivor,
            connect(f"{a.url}/crash") as producer,
            connect(f"{c.url}/crash/shared"),
        ):
            c.kill()  # no goodbye: its registry entry stays until it expires
            publish_many(producer, 50)
            assert sorted(m["context"] for m in drain(survivor)) == list(range(50))
    finally:
        c.stop()
