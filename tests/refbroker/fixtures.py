"""Pytest plugin: the reference stack (dasf-broker-django, demessaging) as live peers.

Registered in ``tests/conftest.py``. Fixtures:

* ``ref_broker`` (session) - a started :class:`ReferenceBroker`;
* ``ref_broker_url`` (session) - its websocket base URL, ``ws://127.0.0.1:<port>/ws``;
* ``ref_backend`` (function) - factory ``ref_backend(broker_url, topic, **kw)`` that starts
  ``ref_module`` (or another demessaging module) and stops it at teardown;
* ``ref_topic`` (function) - a fresh topic name, unique within the session.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable, Iterator

import pytest

from tests.refbroker.backend_process import ReferenceBackend
from tests.refbroker.process import ReferenceBroker
from tests.refbroker.rawws import random_suffix

_REFERENCE_PACKAGES = ("daphne", "dasf_broker", "demessaging", "deprogressapi", "guardian")
_topic_counter = itertools.count(1)


def _require_reference_stack() -> None:
    from tests.conftest import need_service

    missing = [name for name in _REFERENCE_PACKAGES if importlib.util.find_spec(name) is None]
    need_service(
        "the reference DASF stack (" + ", ".join(missing) + ")",
        not missing,
        "pip install -e '.[test]'",
    )


@pytest.fixture(scope="session")
def ref_broker() -> Iterator[ReferenceBroker]:
    """dasf-broker-django under daphne on 127.0.0.1, anonymous users may create topics."""
    _require_reference_stack()
    broker = ReferenceBroker().start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def ref_broker_url(ref_broker: ReferenceBroker) -> str:
    """``ws://127.0.0.1:<port>/ws`` of the session's reference broker."""
    return ref_broker.url


@pytest.fixture
def ref_topic() -> str:
    """A topic name no other test in this session uses (short: slugs are limited to 50)."""
    return f"t{next(_topic_counter)}-{random_suffix(6).lower()}"


@pytest.fixture
def ref_backend() -> Iterator[Callable[..., ReferenceBackend]]:
    """Factory ``ref_backend(broker_url, topic, **kw)`` -> started demessaging backend.

    Keyword arguments go to :class:`ReferenceBackend` (``module``, ``max_payload_size``,
    ``extra_args``, ``startup_timeout``). Every backend started is stopped at teardown.
    """
    started: list[ReferenceBackend] = []

    def start(broker_url: str, topic: str, **kwargs: object) -> ReferenceBackend:
        backend = ReferenceBackend(broker_url, topic, **kwargs)  # type: ignore[arg-type]
        started.append(backend)
        return backend.start()

    try:
        yield start
    finally:
        for backend in started:
            backend.stop()
