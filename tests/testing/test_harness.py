"""serve_in_memory: a module and a client wired in one process, and nothing left behind."""

from __future__ import annotations

import threading

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.errors import ConnectionLost, RemoteError
from dasf_jupyter.testing import InMemoryBroker, serve_in_memory

from .helpers import until


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def fail(text: str) -> None:
    """Raise with ``text``."""
    raise ValueError(text)


class Greeter:
    """Greets people."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self) -> str:
        return f"hi {self.name}"


def test_functions_and_classes_are_served_on_the_given_topic():
    with serve_in_memory([add, fail, Greeter], topic="calc") as served:
        assert served.topic == "calc"
        assert served.module.add(2, b=3) == 5
        assert served.module.Greeter("Ada").greet() == "hi Ada"
        with pytest.raises(RemoteError, match="boom"):
            served.module.fail("boom")


def test_a_backend_module_is_served_on_its_own_topic_and_unpacks_as_broker_and_client():
    module = BackendModule("own-topic", [add], "Adds.")
    with serve_in_memory(module) as (broker, client):
        assert client.module("own-topic").add(1) == 2
        assert broker.consumers("own-topic") == 1
        assert [m.topic for m in client.modules()] == ["own-topic"]


def test_a_given_broker_stays_open_and_its_own_broker_is_closed():
    with InMemoryBroker() as broker:
        with serve_in_memory(add, broker=broker) as served:
            assert served.broker is broker and served.module.add(4) == 5
        assert broker.consumers("test-module") == 0
        assert broker.transport.get("memory://dasf/api/topics/").status == 200
    with serve_in_memory(add) as served:
        own = served.broker
    with pytest.raises(ConnectionLost):
        own.transport.get("memory://dasf/api/topics/")


def test_no_thread_outlives_the_with_block():
    before = set(threading.enumerate())
    with serve_in_memory([add]) as served:
        served.module.add(1)
    until(lambda: not (set(threading.enumerate()) - before), what="the threads to end")
