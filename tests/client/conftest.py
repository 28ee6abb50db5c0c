"""Fixtures for client tests: the sample module served by our backend on a broker.

``served`` is on the in-memory broker (dasf_jupyter.testing: our broker's wire protocol
without sockets); ``client_transport`` is what a client connects through. The interop tests
override both to run the same tests over real websockets through dasf-broker-django.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.testing import InMemoryBroker
from dasf_jupyter.transport import Transport

SAMPLE_MODULE = str(Path(__file__).with_name("sample_module.py"))


def fresh_topic(prefix: str = "cl") -> str:
    """A short topic name no other test uses (dasf-broker-django slugs are short)."""
    return f"{prefix}-{secrets.token_hex(4)}"


@contextmanager
def serve_sample(
    url: str, topic: str, transport: Transport | None = None, **options
) -> Iterator[BackendModule]:
    """Serve ``sample_module.py`` on ``topic`` in the background; stopped on exit."""
    module = BackendModule.from_path(SAMPLE_MODULE, topic, **options)
    handle = module.serve_in_background(url, transport=transport)
    try:
        yield module
    finally:
        handle.stop(timeout=5)


@pytest.fixture(scope="module")
def client_broker() -> Iterator[InMemoryBroker]:
    """One in-memory broker for the tests of a module."""
    with InMemoryBroker() as broker:
        yield broker


@pytest.fixture(scope="module")
def client_transport(client_broker: InMemoryBroker) -> Transport | None:
    """What clients of ``served`` connect through."""
    return client_broker.transport


@pytest.fixture(scope="module")
def served(client_broker: InMemoryBroker) -> Iterator[tuple[str, str]]:
    """``(broker url, topic)`` of the sample module on the in-memory broker."""
    topic = fresh_topic()
    url, transport = client_broker.url, client_broker.transport
    with serve_sample(url, topic, transport, max_workers=8, forward_output=True):
        yield url, topic
