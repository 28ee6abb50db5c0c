"""The broker check of ``%dasf connect`` accepts the reference broker (dasf-broker-django)."""

from __future__ import annotations

import pytest

from dasf_jupyter.client.probe import BrokerUnreachable, check_broker
from tests.conftest import free_port


def test_the_reference_broker_passes_the_check(ref_broker_url):
    check_broker(ref_broker_url)  # raises if its status-ping route does not answer


def test_a_closed_port_fails_the_check_quickly():
    with pytest.raises(BrokerUnreachable, match="no DASF broker answers at"):
        check_broker(f"ws://127.0.0.1:{free_port()}/ws", timeout=5)


def test_an_http_server_that_is_no_broker_fails_the_check(broker_process):
    # the broker's HTTP port answers /admin/ with HTML, not a websocket: not a broker URL
    url = broker_process.url.replace("/ws", "/admin")
    with pytest.raises(BrokerUnreachable, match="answered HTTP"):
        check_broker(url, timeout=5)
