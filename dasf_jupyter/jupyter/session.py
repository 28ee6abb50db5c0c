"""The kernel's DASF state: one connection, the embedded broker, the served cell modules."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client import own_topics
from ..client.hints import default_hint, register_hint
from ..errors import DasfError
from .config import SERVER_SOURCE, jupyter_settings
from .display import ModuleTable
from .embedded import BrokerLocation, EmbeddedBroker, broker_from_server
from .export import export_module
from .notebook_calls import NotebookModule
from .serve_cell import CellModule, build_cell_module

log = logging.getLogger(__name__)

#: environment variable consulted when neither an argument nor %config gives a URL
URL_ENV = "DASF_BROKER_URL"


#: ``%%dasf module --traceback`` choices → the module's ``send_traceback`` policy
TRACEBACK_POLICIES: dict[str, Any] = {"own": own_topics.is_own, "all": True, "off": False}


class NotConnected(DasfError):
    """A command needs a connection; ``%dasf connect`` first."""


@dataclass
class ServedCell:
    """A cell module served from this kernel."""

    cell: CellModule
    handle: Any  # backend ServeHandle
    #: the module key's fingerprint when it encrypts (what clients pass to --trust)
    fingerprint: str | None = None

    @property
    def running(self) -> bool:
        return bool(self.handle.running)


class DasfSession:
    """Connection, embedded broker and cell modules of one kernel; thread-safe.

    Independent of IPython so it can be used (and tested) from plain Python.
    """

    def __init__(self, embedded: EmbeddedBroker | None = None) -> None:
        self.embedded = embedded or EmbeddedBroker()
        self.connection: Any = None  # client Connection
        self.location: BrokerLocation | None = None
        self.served: dict[str, ServedCell] = {}
        #: topics this kernel served from a cell and stopped (for ModuleNotServed hints)
        self.stopped: set[str] = set()
        self._lock = threading.RLock()
        self._remove_hint = register_hint(self.not_served_hint)

    # -- connection ---------------------------------------------------------------------

    def locate(self, url: str | None, token: str | None) -> BrokerLocation:
        """Where to connect: the given URL, $DASF_BROKER_URL, jupyter-server, or embedded."""
        settings = jupyter_settings()  # a kernel is an edge: it reads its environment
        token = token or settings.token or None
        if url:
            return BrokerLocation(url, token, "given")
        if settings.broker_url:
            # the jupyter-server extension hands its broker to kernels through their environment
            source = SERVER_SOURCE if settings.broker_source == SERVER_SOURCE else URL_ENV
            return BrokerLocation(settings.broker_url, token, source)
        found = broker_from_server()
        if found is not None:
            return BrokerLocation(found.url, token or found.token, found.source)
        return BrokerLocation(self.embedded.ensure(), None, "embedded")

    def connect(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout: float = 600.0,
        **security: Any,
    ) -> BrokerLocation:
        """(Re)connect; cell modules keep serving on the broker they started on.

        ``security``: ``trust``, ``identity``, ``encrypt``, ``known_modules`` of
        :func:`~dasf_jupyter.client.connect`.
        """
        from ..client import connect
        from ..client.probe import check_broker

        location = self.locate(url, token)
        # a broker that does not answer is an error now, not at the first call
        check_broker(location.url, location.token)
        connection = connect(location.url, location.token, timeout=timeout, **security)
        with self._lock:
            old, self.connection, self.location = self.connection, connection, location
        if old is not None:
            old.close()
        return location

    def disconnect(self) -> bool:
        """Close the connection; ``False`` if there was none."""
        with self._lock:
            old, self.connection = self.connection, None
        if old is None:
            return False
        old.close()
        return True

    def require(self) -> Any:
        """The connection, or :class:`NotConnected`."""
        connection = self.connection
        if connection is None:
            raise NotConnected("not connected to a broker; run %dasf connect [URL] first")
        return connection

    def module(self, topic: str) -> NotebookModule:
        """Stubs for the module on ``topic`` (progress bars in a kernel)."""
        connection = self.require()
        return NotebookModule(connection, topic, connection.api_info(topic))

    def modules(self) -> ModuleTable:
        """The broker's modules as a displayable table."""
        running = {t: s for t, s in self.served.items() if s.running}
        return ModuleTable(
            self.require().modules(),
            served={t: s.cell.member_names for t, s in running.items()},
            served_descriptions={t: s.cell.description for t, s in running.items()},
        )

    def status(self) -> dict[str, Any]:
        """Connection facts for ``%dasf status`` (the token only as ``set``/``not set``)."""
        location = self.location if self.connection is not None else None
        return {
            "connected": location is not None,
            "url": location.url if location else None,
            "source": location.source if location else None,
            "token": "set" if location and location.token else "not set",
            "embedded_broker": self.embedded.url,
            "embedded_pid": self.embedded.pid,
            "served": {t: s.running for t, s in self.served.items()},
        }

    # -- cell modules -------------------------------------------------------------------

    def not_served_hint(self, topic: str) -> str:
        """What to do when ``topic`` is not served, as seen from this kernel's notebook."""
        cell = f"`%%dasf module {topic}` cell"
        served = self.served.get(topic)
        if served is not None and not served.running:
            return f"its cell module in this kernel is no longer running: re-run its {cell}"
        if topic in self.stopped:
            return f"this kernel served it from a cell and stopped it: re-run its {cell}"
        return (
            f"serve it from a notebook cell starting with `%%dasf module {topic}`, or "
            f"{default_hint(topic)}"
        )

    def serve_cell(
        self,
        topic: str,
        source: str,
        namespace: dict[str, Any],
        description: str | None = None,
        traceback: str = "own",
        **security: Any,
    ) -> ServedCell:
        """Run the cell as a module and serve it (replacing an earlier one on ``topic``).

        ``traceback``: who gets the module's traceback with an error — ``"own"`` (callers of
        this user: this kernel and the user's other kernels), ``"all"`` or ``"off"``.
        ``security``: ``security`` (mode), ``key_path``, ``allow_list``, ``require_auth`` and
        ``subscription`` of :class:`~dasf_jupyter.backend.BackendModule`. A cell module uses
        the default subscription like any replica, so a second kernel (or a ``dasf serve``)
        serving the same topic shares the calls instead of running each one twice.
        """
        from ..backend import BackendModule

        connection = self.require()
        if traceback not in TRACEBACK_POLICIES:
            raise DasfError(f"traceback must be one of {sorted(TRACEBACK_POLICIES)}")
        cell = build_cell_module(topic, source, namespace, description)
        backend = BackendModule(
            topic,
            cell.members,
            cell.description,
            send_traceback=TRACEBACK_POLICIES[traceback],
            **security,
        )
        with self._lock:
            self.stop(topic)
            self.stopped.discard(topic)
            token = self.location.token if self.location is not None else None
            handle = backend.serve_in_background(connection.url, token)
            fingerprint = backend.security.info().fingerprint
            served = self.served[topic] = ServedCell(cell, handle, fingerprint)
        return served

    def stop(self, topic: str, timeout: float = 5.0) -> bool:
        """Stop serving ``topic``; ``False`` if this kernel did not serve it."""
        with self._lock:
            served = self.served.pop(topic, None)
            if served is not None:
                self.stopped.add(topic)
        if served is None:
            return False
        served.handle.stop(timeout)
        # the module object stays importable for objects the notebook still holds
        return True

    def stop_all(self, timeout: float = 5.0) -> list[str]:
        """Stop every cell module; return their topics."""
        topics = list(self.served)
        for topic in topics:
            self.stop(topic, timeout)
        return topics

    def export(self, topic: str, path: str | Path) -> Path:
        """Write the cell module served on ``topic`` as a standalone file."""
        served = self.served.get(topic)
        if served is None:
            known = ", ".join(self.served) or "none"
            raise DasfError(f"this kernel serves no cell module on {topic!r} (serving: {known})")
        return export_module(served.cell, path)

    # -- teardown -----------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop everything this kernel started (idempotent; called at exit and unload)."""
        self._remove_hint()
        for step in (self.stop_all, self.disconnect, self.embedded.stop):
            try:
                step()
            except Exception:  # keep tearing down; a failed step must not block the rest
                log.exception("dasf shutdown step %s failed", step.__name__)
