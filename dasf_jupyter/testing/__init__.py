"""Test dasf-jupyter modules, clients and forms in one process, without a broker or ports.

::

    from dasf_jupyter.testing import InMemoryBroker

    with InMemoryBroker() as broker:
        module.serve_in_background(broker.url, transport=broker.transport)
        ...

An :class:`InMemoryBroker` speaks our broker's wire protocol; its :attr:`~InMemoryBroker.
transport` is passed wherever dasf-jupyter opens connections (``transport=``), in the style
of httpx's ``MockTransport``. :func:`serve_in_memory` wires a module and a client in one go.
"""

from .broker import InMemoryBroker
from .harness import InMemoryServe, serve_in_memory
from .sockets import MemorySocket
from .transport import MemoryTransport

__all__ = ["InMemoryBroker", "InMemoryServe", "MemorySocket", "MemoryTransport", "serve_in_memory"]
