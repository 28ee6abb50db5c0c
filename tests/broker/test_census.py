"""Discovery counts a topic's consumers and subscriptions; a split subscription is logged.

Real broker processes, real websockets; the Redis/PostgreSQL pair counts the consumers of
both brokers.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack

import pytest
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect as dasf_connect
from tests.brokerfixtures import scaled_out_brokers
from tests.waiting import eventually

SPLIT_WARNING = "every request to it will run once per subscription"


def unique_topic() -> str:
    return f"census-{uuid.uuid4().hex[:10]}"


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - local test broker
        return json.loads(answer.read())


def counts(broker: BrokerProcess, topic: str) -> tuple[int | None, int | None] | str:
    """``(consumers, subscriptions)`` of ``topic``, the same from the detail and the list."""
    detail = get_json(f"{broker.http_url}/api/topics/{topic}/")
    listed = next(t for t in get_json(f"{broker.http_url}/api/topics/") if t["name"] == topic)
    pair = (detail["consumers"], detail["subscriptions"])
    if (listed["consumers"], listed["subscriptions"]) != pair:  # changed between the GETs
        return f"detail {pair}, list {listed['consumers'], listed['subscriptions']}"
    return pair


def wait_for(check: Callable[[], object], expected: object, timeout: float = 20.0) -> None:
    """Poll ``check()`` until it returns ``expected`` (fail with the last value after timeout)."""
    eventually(
        lambda: check() == expected,
        timeout=timeout,
        interval=0.1,
        message=lambda: f"{expected!r}, still {check()!r}",
    )


def warnings_about(broker: BrokerProcess, topic: str) -> list[str]:
    return [
        line
        for line in broker.log_tail(200_000).splitlines()
        if SPLIT_WARNING in line and repr(topic) in line
    ]


def test_discovery_counts_consumers_and_subscriptions_and_logs_a_split(start_broker):
    broker = start_broker()
    topic = unique_topic()
    with ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(connect(f"{broker.url}/{topic}/backend-module"))
        wait_for(lambda: counts(broker, topic), (2, 1))
        assert warnings_about(broker, topic) == []  # replicas sharing one subscription: fine
        with connect(f"{broker.url}/{topic}/audit"):
            wait_for(lambda: counts(broker, topic), (3, 2))
            wait_for(lambda: len(warnings_about(broker, topic)), 1)
            warning = warnings_about(broker, topic)[0]
            assert "2 subscriptions (audit, backend-module)" in warning
            # the warning is decided before the handshake completes: no waiting needed here
            with connect(f"{broker.url}/{topic}/third"):
                assert len(warnings_about(broker, topic)) == 1  # at most once a minute
        wait_for(lambda: counts(broker, topic), (2, 1))
    wait_for(lambda: counts(broker, topic), (0, 0))


def test_dasf_modules_prints_the_counts(start_broker, capsys):
    from dasf_jupyter.cli import main

    broker = start_broker()
    topic = unique_topic()
    with connect(f"{broker.url}/{topic}/a"), connect(f"{broker.url}/{topic}/b"):
        wait_for(lambda: counts(broker, topic), (2, 2))
        with dasf_connect(broker.url) as conn:
            info = next(i for i in conn.modules() if i.topic == topic)
        assert (info.consumers, info.subscriptions) == (2, 2)
        assert main(["modules", broker.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["TOPIC", "ONLINE", "CONSUMERS", "SUBS"]
    assert next(line for line in out if line.startswith(topic)).split()[1:4] == ["no", "2", "2"]


def test_response_topics_with_several_subscriptions_are_not_warned_about(start_broker):
    broker = start_broker()
    topic = unique_topic()
    response_topic = f"{topic}_replies"  # <served topic>_<suffix>: how clients name them
    with (
        connect(f"{broker.url}/{topic}/backend-module"),
        connect(f"{broker.url}/{response_topic}/one"),
        connect(f"{broker.url}/{response_topic}/two"),
        connect(f"{broker.url}/{topic}/other"),  # the backend topic: warned about
    ):
        wait_for(lambda: len(warnings_about(broker, topic)), 1)
    assert warnings_about(broker, response_topic) == []


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_broker_pair_counts_the_consumers_on_both_brokers(tmp_path):
    topic = unique_topic()
    with scaled_out_brokers(tmp_path, "census") as (a, b):
        with (
            connect(f"{a.url}/{topic}/backend-module"),
            connect(f"{b.url}/{topic}/backend-module"),
        ):
            wait_for(lambda: counts(a, topic), (2, 1))
            wait_for(lambda: counts(b, topic), (2, 1))
            with connect(f"{b.url}/{topic}/blue"):
                wait_for(lambda: counts(a, topic), (3, 2))
                wait_for(lambda: counts(b, topic), (3, 2))
                # the broker where the second subscription attached sees the first one on A
                wait_for(lambda: len(warnings_about(b, topic)), 1)
            wait_for(lambda: counts(a, topic), (2, 1))
        wait_for(lambda: counts(b, topic), (0, 0))
        wait_for(lambda: counts(a, topic), (0, 0))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_consumers_of_a_killed_broker_stop_counting_within_the_registry_ttl(tmp_path):
    topic = unique_topic()
    with (
        scaled_out_brokers(tmp_path, "census") as (a, b),
        connect(f"{a.url}/{topic}/backend-module"),
    ):
        ws = connect(f"{b.url}/{topic}/backend-module")
        wait_for(lambda: counts(a, topic), (2, 1))
        b.kill()  # no goodbye: its census entries stay in Redis until they expire
        ws.close_socket()
        wait_for(lambda: counts(a, topic), (1, 1), timeout=60)  # TTL 30 s
