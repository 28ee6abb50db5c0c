"""Fixtures that start our broker (dasf_jupyter.broker) as subprocesses."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dasf_jupyter.broker.process import BrokerProcess


@pytest.fixture(scope="session")
def broker_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker for the whole session: open mode, temporary data dir."""
    broker = BrokerProcess(data_dir=tmp_path_factory.mktemp("broker"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def broker_url(broker_process: BrokerProcess) -> str:
    """``ws://127.0.0.1:<port>/ws`` of the session's broker."""
    return broker_process.url


@pytest.fixture
def start_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., BrokerProcess]]:
    """Factory for brokers of one test: ``start_broker(secure=True, env={...})``; all stopped."""
    started: list[BrokerProcess] = []

    def start(**kwargs: Any) -> BrokerProcess:
        kwargs.setdefault("data_dir", tmp_path_factory.mktemp("broker"))
        broker = BrokerProcess(**kwargs)
        started.append(broker)
        return broker.start()

    yield start
    for broker in reversed(started):
        broker.stop()


def scaleout_services() -> tuple[str, str]:
    """URLs of PostgreSQL and Redis for scale-out tests (skip, or fail in CI, without them)."""
    from tests.conftest import need_service, port_open

    need_service("PostgreSQL on 127.0.0.1:5432", port_open("127.0.0.1", 5432))
    need_service("Redis on 127.0.0.1:6379", port_open("127.0.0.1", 6379))
    return (
        os.environ.get("DASF_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        os.environ.get("DASF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )


@contextmanager
def scaled_out_brokers(
    tmp: Path, name: str, extra_env: dict[str, str] | None = None, secure: bool = False
) -> Iterator[tuple[BrokerProcess, BrokerProcess]]:
    """Brokers A and B on a fresh PostgreSQL database and Redis key prefix; removed after."""
    import psycopg
    import redis

    postgres_url, redis_url = scaleout_services()
    db_name = f"dasf_{name}_{uuid.uuid4().hex[:12]}"
    prefix = f"dasf-{name}-{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    env = {
        "DATABASE_URL": postgres_url.rsplit("/", 1)[0] + f"/{db_name}",
        "REDIS_URL": redis_url,
        "DASF_REDIS_PREFIX": prefix,
        **(extra_env or {}),
    }
    a = BrokerProcess(data_dir=tmp / "a", env=env, secure=secure)
    b = BrokerProcess(data_dir=tmp / "b", env=env, secure=secure)
    try:
        a.start()  # A applies the migrations; B finds them applied
        b.start()
        yield a, b
    finally:
        b.stop()
        a.stop()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def publish_frame(
    payload: str = "", context: Any = None, message_type: str = "request", **properties: Any
) -> str:
    """JSON text of a publish frame with ``messageType`` and extra properties."""
    frame: dict[str, Any] = {
        "payload": payload,
        "properties": {"messageType": message_type, **properties},
    }
    if context is not None:
        frame["context"] = context
    return json.dumps(frame)


def recv_json(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    """Receive one frame from a sync websockets connection and parse it."""
    return json.loads(ws.recv(timeout=timeout))


def recv_messages(ws: Any, timeout: float = 10.0, skip_probes: bool = True) -> Iterator[dict]:
    """Yield delivered frames, skipping the broker's own ping/api_info probes."""
    while True:
        frame = recv_json(ws, timeout)
        props = frame.get("properties", {})
        if skip_probes and props.get("response_topic") == "status-ping":
            continue
        yield frame
