"""Review finding: an anonymous request must not claim a running module's topic.

On an open broker an anonymous backend serving ``my_module`` (no topic ``my`` exists) creates
its topic by subscribing; such a topic stays claimable as its creator's reply topic for
DASF_RESPONSE_TOPIC_CLAIM_WINDOW seconds, and in open mode every anonymous caller counts as
that creator. An attacker who saw the module in discovery sent one request to ``my`` naming
``my_module`` as its response topic: the module topic became a response topic, vanished from
``/api/topics/`` and liveness, and fell to the response-topic GC. A topic whose consumer has
answered the broker's ``api_info`` probe is a module, not somebody's reply topic: it can no
longer be claimed. Real broker process, real backend module, real websockets.
"""

from __future__ import annotations

import json
import urllib.request

from websockets.sync.client import connect

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from tests.waiting import eventually


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def listed(broker: BrokerProcess) -> dict[str, dict]:
    with urllib.request.urlopen(f"{broker.http_url}/api/topics/", timeout=10) as answer:  # noqa: S310
        return {t["name"]: t for t in json.load(answer)}


def wait_for_api_info(broker: BrokerProcess, topic: str, seconds: float = 20) -> None:
    eventually(
        lambda: (listed(broker).get(topic) or {}).get("api_info"),
        timeout=seconds,
        interval=0.2,
        message=lambda: f"{topic} to report its api_info: {listed(broker)}",
    )


def test_anonymous_request_cannot_claim_a_served_module_topic(tmp_path):
    with (
        BrokerProcess(data_dir=tmp_path / "broker") as broker,
        BackendModule("my_module", [add]).serve_in_background(broker.url),
    ):
        wait_for_api_info(broker, "my_module")  # well inside the 60 s claim window
        with connect(f"{broker.url}/my", open_timeout=10) as attacker:
            attacker.send(
                json.dumps(
                    {
                        "payload": "",
                        "context": "1",
                        "properties": {"response_topic": "my_module"},
                    }
                )
            )
            ack = json.loads(attacker.recv(timeout=10))
        assert ack["result"] != "ok", ack
        assert "not a response topic" in ack["result"], ack
        assert "my_module" in listed(broker), "the module vanished from discovery"
