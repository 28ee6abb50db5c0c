"""The three stacks under test: broker + backend processes, started and stopped the same way.

Reference: dasf-broker-django under daphne (``tests.refbroker.ReferenceBroker``) and
demessaging backends (``tests.refbroker.backend_process.ReferenceBackend``) serving
:mod:`benchmarks.ref_workloads`. Ours: ``BrokerProcess`` and :mod:`benchmarks.our_backend`.
Floor: the bare relay and backend of :mod:`benchmarks.floor`.
"""

from __future__ import annotations

import tempfile
from typing import Any

from benchmarks.procs import ChildProcess
from dasf_jupyter.broker.process import BrokerProcess
from tests.refbroker.backend_process import DEMESSAGING_MAX_PAYLOAD_SIZE, ReferenceBackend
from tests.refbroker.process import ReferenceBroker

#: raised limits without which the reference cannot move results beyond ~500 KB (see README)
REF_TUNED_FRAME = 1024 * 1024 * 1024
STARTUP_TIMEOUT = 90.0


def _pid_of(harness_object: Any) -> int:
    # the refbroker harness keeps its Popen private; we only read the pid for RSS sampling
    proc = harness_object._proc
    assert proc is not None, "not started"
    return int(proc.pid)


class Stack:
    """Common interface: a broker process, backend processes started on demand, ``stop()``.

    Subclasses set ``broker`` (anything with ``start()``, ``stop()`` and ``url``) in
    ``__init__`` and say how to find the broker's pid and how to start one backend.
    """

    name = ""
    client_kind = ""
    broker: Any

    def __init__(self) -> None:
        self.backends: list[Any] = []  # each has ``stop()``
        self.backend_pids: list[int] = []

    def start(self) -> Stack:
        self.broker.start()
        return self

    @property
    def url(self) -> str:
        return str(self.broker.url)

    @property
    def broker_pid(self) -> int:
        raise NotImplementedError

    def start_backend(self, topic: str, *, subscription: str | None = None, **kw: Any) -> int:
        """Start one backend process serving the workloads on ``topic``; return its pid."""
        raise NotImplementedError

    def idle_url(self, topic: str) -> str:
        """Where an idle client socket of ``topic`` connects (a producer socket)."""
        return f"{self.url}/{topic}"

    def stop_backends(self) -> None:
        while self.backends:
            self.backends.pop().stop()
        self.backend_pids.clear()

    def stop(self) -> None:
        self.stop_backends()
        self.broker.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ReferenceStack(Stack):
    """dasf-broker-django + demessaging, payload limits raised ("tuned")."""

    name = "reference"
    client_kind = "ref"

    def __init__(self) -> None:
        super().__init__()
        self.broker = ReferenceBroker(max_message_size=REF_TUNED_FRAME)

    @property
    def broker_pid(self) -> int:
        return _pid_of(self.broker)

    def start_backend(
        self, topic: str, *, subscription: str | None = None, tuned: bool = True, **kw: Any
    ) -> int:
        # demessaging has no shared subscriptions: every replica gets every request
        size = REF_TUNED_FRAME if tuned else DEMESSAGING_MAX_PAYLOAD_SIZE
        backend = ReferenceBackend(
            self.url,
            topic,
            module="benchmarks.ref_workloads",
            max_payload_size=size,
            startup_timeout=STARTUP_TIMEOUT,
        )
        self.backends.append(backend)
        backend.start()
        self.backend_pids.append(_pid_of(backend))
        return self.backend_pids[-1]


class OurStack(Stack):
    """Our broker and backend with default settings."""

    name = "ours"
    client_kind = "ours"

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(prefix="dasf-bench-broker-")
        self.broker = BrokerProcess(data_dir=self._dir.name, start_timeout=STARTUP_TIMEOUT)

    @property
    def broker_pid(self) -> int:
        assert self.broker.process is not None, "broker not started"
        return int(self.broker.process.pid)

    def start_backend(self, topic: str, *, subscription: str | None = None, **kw: Any) -> int:
        args = ["-m", "benchmarks.our_backend", self.url, topic]
        backend = ChildProcess(args + ([subscription] if subscription else []), f"be-{topic}")
        self.backends.append(backend)
        backend.answer(STARTUP_TIMEOUT)
        self.backend_pids.append(backend.pid)
        return backend.pid

    def stop(self) -> None:
        super().stop()
        self._dir.cleanup()


class _ChildBroker:
    """A :class:`ChildProcess` broker that announces its URL in its ready answer."""

    def __init__(self, args: list[str], name: str) -> None:
        self.args, self.name = args, name
        self.child: ChildProcess | None = None
        self.url = ""

    def start(self) -> None:
        self.child = ChildProcess(self.args, self.name)
        self.url = self.child.answer(STARTUP_TIMEOUT)["url"]

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


class FloorStack(Stack):
    """The floor: bare relay, backend and client of :mod:`benchmarks.floor`."""

    name = "floor"
    client_kind = "floor"

    def __init__(self) -> None:
        super().__init__()
        self.broker = _ChildBroker(["-m", "benchmarks.floor.relay"], "floor-relay")

    @property
    def broker_pid(self) -> int:
        assert self.broker.child is not None, "relay not started"
        return self.broker.child.pid

    def start_backend(self, topic: str, *, subscription: str | None = None, **kw: Any) -> int:
        # every backend of a topic shares its requests round-robin (what subscription= does)
        backend = ChildProcess(["-m", "benchmarks.floor.backend", self.url, topic], f"fl-{topic}")
        self.backends.append(backend)
        backend.answer(STARTUP_TIMEOUT)
        self.backend_pids.append(backend.pid)
        return backend.pid

    def idle_url(self, topic: str) -> str:
        return f"{self.url}/pub/{topic}"
