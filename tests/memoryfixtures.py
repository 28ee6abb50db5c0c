"""Fixtures of the in-memory broker (``dasf_jupyter.testing``): no process, no port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dasf_jupyter.testing import InMemoryBroker


@pytest.fixture
def memory_broker() -> Iterator[InMemoryBroker]:
    """A fresh in-memory broker, closed after the test."""
    with InMemoryBroker() as broker:
        yield broker
