"""Our client and our backend talk through dasf-broker-django (the reference broker).

Every test of ``tests/client/test_calls.py`` runs again here; only ``served`` differs (and
``client_transport``: real websockets instead of the in-memory broker's transport).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dasf_jupyter.client import connect
from dasf_jupyter.errors import ModuleNotServed
from dasf_jupyter.transport import WEBSOCKETS, Transport
from tests.client.conftest import fresh_topic, serve_sample
from tests.client.test_calls import *  # noqa: F403 - the same behaviour, another broker
from tests.client.test_calls import remote, url_topic_conn  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def served(ref_broker_url: str) -> Iterator[tuple[str, str]]:
    """``(broker url, topic)`` of the sample module behind dasf-broker-django."""
    topic = fresh_topic("rc")
    with serve_sample(ref_broker_url, topic, max_workers=8, forward_output=True):
        yield ref_broker_url, topic


@pytest.fixture(scope="module")
def client_transport() -> Transport | None:
    """The default transport: real websockets."""
    return WEBSOCKETS


@pytest.fixture
def concurrency() -> tuple[int, int]:
    """Fewer calls than on our broker: dasf-broker-django handles ~4 calls/s here."""
    return 4, 5


def test_an_unserved_topic_fails_within_the_discovery_timeout(ref_broker_url):
    with connect(ref_broker_url) as conn, pytest.raises(ModuleNotServed, match="within 2 s"):
        conn.module(fresh_topic("nobody"), timeout=2)


def test_listing_modules_says_the_reference_broker_cannot(ref_broker_url):
    from dasf_jupyter.errors import DasfError

    with connect(ref_broker_url) as conn, pytest.raises(DasfError, match="discovery API"):
        conn.modules()
