"""Replicas of one module, as an operator starts them: ``dasf serve`` twice, seconds apart.

Each replica counts its executions in its own file, so the tests see how often every call
ran and which replica ran it: replicas share the calls by default (each call runs once),
also when each replica is connected to another broker of a Redis/PostgreSQL pair.
"""

from __future__ import annotations

import collections
import itertools
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from dasf_jupyter.client import connect
from tests.brokerfixtures import scaled_out_brokers
from tests.reliability.processes import BackendProcess, executions
from tests.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CALLS = 40


def wait_for_a_new_second() -> None:
    """Return in the next wall-clock second (the reference names subscriptions by it)."""
    second = int(time.time())
    eventually(lambda: int(time.time()) != second, timeout=2, message="the next second")


@contextmanager
def replicas(urls: list[str], topic: str, work: Path, **options) -> Iterator[list[Path]]:
    """One ``dasf serve`` per URL, each started in a later second; yields their count files."""
    files = [work / f"replica-{i}.txt" for i in range(len(urls))]
    with ExitStack() as stack:
        for url, count_file in zip(urls, files, strict=True):
            wait_for_a_new_second()
            stack.enter_context(BackendProcess(url, topic, count_file, **options))
        yield files


def wait_until_every_replica_ran_a_call(url: str, topic: str, files: list[Path]) -> None:
    """Call until each replica has run something: all of them are connected."""
    with connect(url, timeout=30) as conn:
        warmups = itertools.count(1)

        def every_replica_ran() -> bool:
            if all(executions(f) for f in files):
                return True
            conn.call(topic, {"func_name": "echo", "tag": f"warmup-{next(warmups)}", "data": ""})
            return False

        eventually(
            every_replica_ran,
            timeout=60,
            interval=0,
            message=lambda: f"a call run by each replica: {[dict(executions(f)) for f in files]}",
        )


def call_concurrently(url: str, topic: str, tags: list[str]) -> None:
    """One echo call per tag, all in flight at once; each result checked."""
    with connect(url, timeout=60) as conn:
        futures = [
            conn.submit(topic, {"func_name": "echo", "tag": tag, "data": tag}) for tag in tags
        ]
        assert [f.result(timeout=120) for f in futures] == tags


def call_executions(files: list[Path], settle: float = 1.5) -> list[collections.Counter[str]]:
    """Executions of the measured calls per replica, read after a short settling time.

    A duplicate would run at about the same time as the original; the settling time lets a
    late one show up in the files before they are counted.
    """
    time.sleep(settle)
    return [
        collections.Counter({t: n for t, n in executions(f).items() if t.startswith("call-")})
        for f in files
    ]


def check_shared(per_replica: list[collections.Counter[str]], tags: list[str]) -> None:
    total = sum(per_replica, collections.Counter())
    assert sum(total.values()) == len(tags), (
        f"{sum(total.values())} executions of {len(tags)} calls; "
        f"per replica {[sum(c.values()) for c in per_replica]}"
    )
    assert total == collections.Counter(tags)  # each call exactly once
    assert all(per_replica), f"a replica ran nothing: {[sum(c.values()) for c in per_replica]}"


def test_two_replicas_started_seconds_apart_share_40_calls_each_run_once(broker_url, tmp_path):
    topic = f"replicas-{secrets.token_hex(4)}"
    with replicas([broker_url, broker_url], topic, tmp_path) as files:
        wait_until_every_replica_ran_a_call(broker_url, topic, files)
        tags = [f"call-{i}" for i in range(CALLS)]
        call_concurrently(broker_url, topic, tags)
        check_shared(call_executions(files), tags)
    for count_file in files:  # sharing one subscription is what replicas should do
        assert "once per subscription" not in count_file.with_suffix(".log").read_text()


def test_replicas_on_two_brokers_of_a_redis_pair_share_40_calls_each_run_once(tmp_path):
    topic = f"replicas-{secrets.token_hex(4)}"
    with (
        scaled_out_brokers(tmp_path, "replicas") as (a, b),
        replicas([a.url, b.url], topic, tmp_path) as files,
    ):
        wait_until_every_replica_ran_a_call(a.url, topic, files)
        tags = [f"call-{i}" for i in range(CALLS)]
        call_concurrently(a.url, topic, tags[: CALLS // 2])
        call_concurrently(b.url, topic, tags[CALLS // 2 :])  # the other half through B
        check_shared(call_executions(files), tags)


def test_replicas_with_different_subscriptions_each_run_every_call(broker_url, tmp_path):
    """What ``--subscription`` is for: a second name gets a copy of every call."""
    topic = f"replicas-{secrets.token_hex(4)}"
    work = tmp_path
    first = BackendProcess(broker_url, topic, work / "first.txt", subscription="blue")
    second = BackendProcess(broker_url, topic, work / "second.txt", subscription="green")
    with first, second:
        files = [first.count_file, second.count_file]
        wait_until_every_replica_ran_a_call(broker_url, topic, files)
        tags = [f"call-{i}" for i in range(10)]
        call_concurrently(broker_url, topic, tags)
        per_replica = call_executions(files)
    assert per_replica == [collections.Counter(tags)] * 2
    # the replica that came second saw the first subscription and said what this means
    assert "every request will run once per subscription" in second.log_path.read_text()
    assert "every request will run once per subscription" not in first.log_path.read_text()


def test_reference_replicas_started_seconds_apart_share_the_calls_through_our_broker(
    broker_url, tmp_path, monkeypatch
):
    """demessaging names its subscription by its start second; our broker shares it anyway."""
    from tests.refbroker.backend_process import ReferenceBackend

    topic = f"refreplicas-{secrets.token_hex(4)}"
    count_file = tmp_path / "ref.txt"
    monkeypatch.setenv("DASF_COUNT_FILE", str(count_file))
    module = "tests.reliability.ref_counting_module"
    with ExitStack() as stack:
        for _ in range(2):
            wait_for_a_new_second()
            stack.enter_context(ReferenceBackend(broker_url, topic, module=module))
        with connect(broker_url, timeout=60) as conn:
            warmups = itertools.count(1)

            def both_ran() -> bool:
                if len({line.split()[1] for line in lines(count_file)}) >= 2:
                    return True
                conn.call(topic, {"func_name": "echo", "tag": f"warmup-{next(warmups)}"})
                return False

            eventually(
                both_ran,
                timeout=60,
                interval=0,
                message=lambda: f"a call run by each replica: {lines(count_file)}",
            )
            tags = [f"call-{i}" for i in range(20)]
            futures = [conn.submit(topic, {"func_name": "echo", "tag": t}) for t in tags]
            assert [f.result(timeout=120) for f in futures] == tags
        time.sleep(1.5)  # a duplicate would run about now
        runs = [line.split() for line in lines(count_file) if line.startswith("call-")]
    assert collections.Counter(tag for tag, _ in runs) == collections.Counter(tags)
    assert len({pid for _, pid in runs}) == 2  # both replicas took calls


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
