"""Fixtures that start our broker (dasf_jupyter.broker) as subprocesses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
