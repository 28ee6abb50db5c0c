"""Fixtures for client tests: the sample module served by our backend on a live broker."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dasf_jupyter.backend import BackendModule

SAMPLE_MODULE = str(Path(__file__).with_name("sample_module.py"))


def fresh_topic(prefix: str = "cl") -> str:
    """A short topic name no other test uses (dasf-broker-django slugs are short)."""
    return f"{prefix}-{secrets.token_hex(4)}"


@contextmanager
def serve_sample(url: str, topic: str, **options) -> Iterator[BackendModule]:
    """Serve ``sample_module.py`` on ``topic`` in the background; stopped on exit."""
    module = BackendModule.from_path(SAMPLE_MODULE, topic, **options)
    handle = module.serve_in_background(url)
    try:
        yield module
    finally:
        handle.stop(timeout=5)


@pytest.fixture(scope="module")
def served(broker_url: str) -> Iterator[tuple[str, str]]:
    """``(broker url, topic)`` of the sample module on our broker."""
    topic = fresh_topic()
    with serve_sample(broker_url, topic, max_workers=8, forward_output=True):
        yield broker_url, topic
