"""The in-memory broker's /api/topics/: what our broker's discovery API says of a module."""

from __future__ import annotations

import json

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.testing import InMemoryBroker

from .helpers import consumer, until


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def _topics(broker: InMemoryBroker, query: str = "") -> list[dict]:
    answer = broker.transport.get(f"memory://{broker.name}/api/topics/{query}")
    assert answer.status == 200
    return json.loads(answer.body)


def test_a_served_module_is_listed_online_with_its_api_info():
    with InMemoryBroker() as broker:
        module = BackendModule("calc", [add], "A calculator.")
        with module.serve_in_background(broker.url, transport=broker.transport):
            (entry,) = until(lambda: _topics(broker, "?online=1"), what="calc online")
            assert entry["name"] == "calc" and entry["online"]
            until(lambda: _topics(broker)[0]["api_info"], what="api_info of calc")
            (entry,) = _topics(broker)
            assert entry["functions"] == ["add"] and entry["description"] == "A calculator."
            assert (entry["consumers"], entry["subscriptions"]) == (1, 1)
        assert _topics(broker, "?online=1") == []  # its last consumer left
        (entry,) = _topics(broker)
        assert not entry["online"] and entry["consumers"] == 0


def test_one_topic_is_answered_and_an_unknown_one_is_404():
    with InMemoryBroker() as broker:
        consumer(broker, "calc")
        answer = broker.transport.get(f"memory://{broker.name}/api/topics/calc/")
        assert answer.status == 200 and json.loads(answer.body)["name"] == "calc"
        assert broker.transport.get(f"memory://{broker.name}/api/topics/nope/").status == 404


def test_response_topics_are_not_listed():
    with InMemoryBroker() as broker:
        consumer(broker, "calc")
        consumer(broker, "calc_abcdefgh12345678")  # a client's reply topic
        assert [t["name"] for t in _topics(broker)] == ["calc"]
