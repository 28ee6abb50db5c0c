"""Listing modules through the broker's discovery API."""

from __future__ import annotations

import pytest

from dasf_jupyter.client import ModuleInfo, connect
from dasf_jupyter.client.discovery import parse_topic_list
from dasf_jupyter.errors import BrokerError


def test_modules_of_a_broker_include_a_served_topic(served, client_transport):
    url, topic = served
    with connect(url, transport=client_transport) as conn:
        conn.module(topic, timeout=30)  # make sure the backend is up
        infos = {info.topic: info for info in conn.modules()}
    assert topic in infos
    assert isinstance(infos[topic], ModuleInfo)


def test_topic_lists_are_read_in_the_shapes_brokers_use():
    plain = parse_topic_list([{"name": "a", "online": True, "description": "A"}])
    assert plain == [ModuleInfo("a", "A", True, raw=plain[0].raw)]
    paginated = parse_topic_list({"results": [{"slug": "b"}]})
    assert [m.topic for m in paginated] == ["b"]
    with pytest.raises(BrokerError, match="list of topics"):
        parse_topic_list({"detail": "nope"})
    with pytest.raises(BrokerError, match="without a topic"):
        parse_topic_list([{"online": True}])
