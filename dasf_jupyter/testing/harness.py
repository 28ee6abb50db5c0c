"""A module and a client wired through an in-memory broker, in one ``with`` statement."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .broker import InMemoryBroker

if TYPE_CHECKING:
    from ..backend import BackendModule
    from ..client import Connection, RemoteModule

#: the topic of a module made from plain functions and classes
DEFAULT_TOPIC = "test-module"


class InMemoryServe:
    """What :func:`serve_in_memory` yields; unpacks as ``(broker, client)``."""

    def __init__(self, broker: InMemoryBroker, client: Connection, topic: str) -> None:
        self.broker = broker
        self.client = client
        self.topic = topic

    @property
    def module(self) -> RemoteModule:
        """The served module as the client sees it: ``served.module.add(a=1, b=2)``."""
        return self.client.module(self.topic)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.broker, self.client))


@contextmanager
def serve_in_memory(
    module: BackendModule | Callable[..., Any] | type | Sequence[Callable[..., Any] | type],
    topic: str = DEFAULT_TOPIC,
    *,
    broker: InMemoryBroker | None = None,
    **connect_options: Any,
) -> Iterator[InMemoryServe]:
    """Serve ``module`` on an in-memory broker and connect a client to it; stop both on exit.

    ``module``: a :class:`~dasf_jupyter.backend.BackendModule` (served on its own topic), or
    functions and classes served on ``topic``. ``connect_options`` go to
    :func:`dasf_jupyter.client.connect` (``timeout=``, ``token=`` …); keys the client pins go
    to a temporary file unless ``known_modules`` or ``security`` is given. Without ``broker``
    a fresh one is made and closed on exit.
    """
    from ..backend import BackendModule
    from ..client import connect

    if not isinstance(module, BackendModule):
        members = list(module) if isinstance(module, Sequence) else [module]
        module = BackendModule(topic, members)
    own_broker = broker is None
    broker = broker or InMemoryBroker()
    token = connect_options.get("token")
    with tempfile.TemporaryDirectory(prefix="dasf-memory-") as scratch:
        if "security" not in connect_options:  # keys pinned in this test stay in it
            connect_options.setdefault("known_modules", Path(scratch) / "known_modules.json")
        try:
            handle = module.serve_in_background(broker.url, token, transport=broker.transport)
            try:
                with connect(broker.url, transport=broker.transport, **connect_options) as client:
                    yield InMemoryServe(broker, client, module.topic)
            finally:
                handle.stop(timeout=5)
        finally:
            if own_broker:
                broker.close()
