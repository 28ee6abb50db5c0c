"""Serving lifecycle: blocking serve and stop, connection errors, reconnects, broker probes.

Tests about the module's own logic run on the in-memory broker (dasf_jupyter.testing); those
about connections and the reference broker's probes over real websockets.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.errors import ConnectionLost
from tests.backend.test_serve import RawCaller, add, new_topic
from tests.conftest import free_port
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(240)


def test_serve_blocks_until_stop_is_called(memory_broker):
    topic = new_topic()
    module = BackendModule(topic, [add])
    url, transport = memory_broker.url, memory_broker.transport
    thread = threading.Thread(
        target=module.serve, args=(url,), kwargs={"transport": transport}, daemon=True
    )
    thread.start()
    caller = RawCaller(url, topic, transport)
    try:
        assert caller.call({"func_name": "add", "a": 1, "b": 1}) == ("success", 2)
        assert thread.is_alive()
        module.stop()
        thread.join(20)
        assert not thread.is_alive()
    finally:
        caller.close()
        module.stop()


def test_serve_in_background_raises_when_the_broker_is_unreachable():
    module = BackendModule(new_topic(), [add])
    with pytest.raises(ConnectionLost, match="cannot connect"):
        module.serve_in_background(f"ws://127.0.0.1:{free_port()}/ws")


def test_the_module_reconnects_after_the_broker_restarts(start_broker):
    broker = start_broker()
    topic = new_topic()
    module = BackendModule(topic, [add])
    with module.serve_in_background(broker.url) as handle:
        caller = RawCaller(broker.url, topic)
        assert caller.call({"func_name": "add", "a": 1}) == ("success", 2)
        caller.close()
        broker.kill()
        broker.stop()
        broker.start()
        caller = RawCaller(broker.url, topic)
        try:
            # our broker holds a request for an unserved topic until the module is back
            assert caller.call({"func_name": "add", "a": 2}, timeout=60) == ("success", 3)
        finally:
            caller.close()
        assert handle.running


def test_replicas_with_one_subscription_share_the_topic(memory_broker):
    topic = new_topic()
    first = BackendModule(topic, [add], subscription="shared-workers")
    second = BackendModule(topic, [add], subscription="shared-workers")
    url, transport = memory_broker.url, memory_broker.transport
    with (
        first.serve_in_background(url, transport=transport),
        second.serve_in_background(url, transport=transport),
    ):
        assert memory_broker.subscriptions(topic) == {"shared-workers": 2}
        caller = RawCaller(url, topic, transport)
        try:
            contexts = [caller.request({"func_name": "add", "a": n}) for n in range(6)]
            results = [caller.result(c)[:2] for c in contexts]
        finally:
            caller.close()
    assert results == [("success", n + 1) for n in range(6)]


def test_broker_pings_are_answered_on_status_ping(ref_broker, ref_topic):
    module = BackendModule(ref_topic, [add])
    status_url = f"{ref_broker.http_url}/dasf-broker-django/{ref_topic}/status/"
    ping_url = f"{ref_broker.http_url}/dasf-broker-django/{ref_topic}/ping/"
    with module.serve_in_background(ref_broker.url):
        caller = RawCaller(ref_broker.url, ref_topic)  # a first publish creates the topic
        try:
            caller.replies(caller.send("ping"))
        finally:
            caller.close()
        urllib.request.urlopen(urllib.request.Request(ping_url, method="POST"), timeout=10)

        def connected() -> tuple[int, str] | None:
            try:
                with urllib.request.urlopen(status_url, timeout=10) as response:
                    return None if response.status != 200 else (200, response.read().decode())
            except urllib.error.HTTPError as exc:
                with exc:
                    return None

        status = eventually(connected, timeout=30, interval=0.2, message="status 200 after a ping")
    assert status == (200, "Consumer connected")


def test_from_path_serves_the_public_members_of_a_file(tmp_path, memory_broker):
    source = tmp_path / "mymodule.py"
    source.write_text(
        '"""My module."""\n\n'
        "def triple(x: int) -> int:\n"
        '    """Triple x."""\n'
        "    return 3 * x\n\n"
        "def _hidden() -> None:\n"
        "    pass\n"
    )
    topic = new_topic()
    module = BackendModule.from_path(str(source), topic)
    assert [f["name"] for f in module.api_info()["functions"]] == ["triple"]
    url, transport = memory_broker.url, memory_broker.transport
    with module.serve_in_background(url, transport=transport):
        caller = RawCaller(url, topic, transport)
        try:
            assert caller.call({"func_name": "triple", "x": 4}) == ("success", 12)
        finally:
            caller.close()


def test_stop_rejects_queued_requests_and_closes_the_handle(memory_broker):
    from tests.backend.test_serve import GATE, MEMBERS

    topic = new_topic()
    module = BackendModule(topic, MEMBERS, max_workers=1)
    GATE.clear()
    url, transport = memory_broker.url, memory_broker.transport
    handle = module.serve_in_background(url, transport=transport)
    caller = RawCaller(url, topic, transport)
    try:
        running = caller.request({"func_name": "blocked"})
        queued = caller.request({"func_name": "add", "a": 1})
        caller.replies(caller.send("ping"))  # both requests have reached the module
        stopper = threading.Thread(target=handle.stop, kwargs={"timeout": 30})
        stopper.start()
        status, text, _ = caller.result(queued, timeout=30)
        assert (status, text) == (
            "error",
            "request rejected because the module is shutting down, try again later",
        )
        GATE.set()  # the running call may finish during stop() and still answers
        assert caller.result(running, timeout=30)[:2] == ("success", "released")
        stopper.join(40)
        assert not handle.running
        assert module._servers == []
    finally:
        GATE.set()
        caller.close()
        handle.stop()
