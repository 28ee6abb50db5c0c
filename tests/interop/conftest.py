"""Interop fixtures: a demessaging ``ref_module`` backend served through the reference broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.refbroker.backend_process import ReferenceBackend
from tests.refbroker.rawws import random_suffix


@pytest.fixture(scope="session")
def ref_module_topic(ref_broker_url: str) -> Iterator[str]:
    """Topic on which demessaging serves ``tests/refbroker/ref_module.py``, shared per session.

    The module is stateless, so sharing it is safe; use the ``ref_backend`` factory when a
    test needs its own process (other limits, or to stop it).
    """
    topic = f"refmod-{random_suffix(6).lower()}"
    backend = ReferenceBackend(ref_broker_url, topic).start()
    try:
        yield topic
    finally:
        backend.stop()
