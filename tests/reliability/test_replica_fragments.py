"""Issue 14 item 2: a large (fragmented) request to replicated modules runs exactly once.

Two real ``dasf serve`` processes consume one shared subscription. Every fragment of one
request must reach the same replica (affinity by the request's identity), in a single
broker (memory hub) and across a Redis+PostgreSQL broker pair with one replica on each.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from dasf_jupyter.client import connect
from tests.brokerfixtures import scaled_out_brokers
from tests.reliability.processes import BackendProcess, executions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: 3 MB of request data: about 8 fragments of the client's default fragment size
BIG = "x" * 3_000_000


def _replicas(urls: list[str], topic: str, count_file: Path) -> list[BackendProcess]:
    subscription = f"replicas-{secrets.token_hex(4)}"
    return [
        BackendProcess(
            url,
            topic,
            count_file,
            workers=2,
            subscription=subscription,
            log_name=f"replica{i}.log",
        )
        for i, url in enumerate(urls)
    ]


def _call_big_requests(url: str, topic: str, calls: int) -> list[int]:
    with connect(url, timeout=30) as conn:
        info = conn.api_info(topic)  # learns that the module takes fragmented requests
        assert info.get("x-dasf-jupyter", {}).get("request_fragments")
        return [
            conn.call(topic, {"func_name": "size", "tag": f"big{i}", "data": BIG})
            for i in range(calls)
        ]


def _run(urls: list[str], caller_url: str, tmp_path: Path) -> None:
    topic, count_file = f"rep-{secrets.token_hex(4)}", tmp_path / "count.txt"
    replicas = _replicas(urls, topic, count_file)
    try:
        for replica in replicas:
            replica.start()
        assert _call_big_requests(caller_url, topic, 4) == [len(BIG)] * 4
    finally:
        for replica in replicas:
            replica.stop()
    assert executions(count_file) == {f"big{i}": 1 for i in range(4)}


def test_a_3mb_request_to_two_replicas_on_one_broker_runs_once(start_broker, tmp_path):
    broker = start_broker()
    _run([broker.url, broker.url], broker.url, tmp_path)


def test_a_3mb_request_to_replicas_on_two_redis_brokers_runs_once(tmp_path):
    with scaled_out_brokers(tmp_path, "affinity") as (a, b):
        _run([a.url, b.url], b.url, tmp_path)
