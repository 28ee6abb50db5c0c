"""The exception tree of dasf-jupyter.

::

    DasfError
    ├── ProtocolError          a frame or payload does not follow the DASF wire format
    │   └── PayloadTooLarge    a message or reassembled payload exceeds a size limit
    ├── BrokerError            talking to the broker failed
    │   ├── BrokerRefused      the broker answered a publish with a result other than "ok"
    │   └── ConnectionLost     the websocket to the broker closed
    ├── CallTimeout            no answer (or progress) arrived within the call's timeout
    ├── ModuleNotServed        nobody consumes the request topic
    └── RemoteError            the backend module answered with an error
"""

from __future__ import annotations


class DasfError(Exception):
    """Base class of every error raised by dasf-jupyter."""


class ProtocolError(DasfError):
    """A frame or payload does not follow the DASF wire format."""


class PayloadTooLarge(ProtocolError):
    """A message, or a payload reassembled from fragments, exceeds its size limit."""


class BrokerError(DasfError):
    """Talking to the broker failed."""


class BrokerRefused(BrokerError):
    """The broker acknowledged a publish with a result other than ``"ok"``."""

    def __init__(self, result: str, topic: str | None = None) -> None:
        self.result = result
        self.topic = topic
        where = f" on topic {topic!r}" if topic else ""
        super().__init__(f"the broker refused the message{where}: {result}")


class ConnectionLost(BrokerError):
    """The websocket connection to the broker closed."""


class CallTimeout(DasfError, TimeoutError):
    """No response (and no progress) arrived within the call's timeout."""


class ModuleNotServed(DasfError):
    """No backend module consumes the requested topic."""


class RemoteError(DasfError):
    """The backend module answered a request with an error.

    ``exc_type`` is the remote exception's class name where the backend reports it
    (dasf-jupyter backends do; reference backends send only text), ``traceback`` the remote
    traceback when the module is configured to send it.
    """

    def __init__(
        self,
        message: str,
        *,
        exc_type: str | None = None,
        traceback: str | None = None,
        topic: str | None = None,
    ) -> None:
        self.message = message
        self.exc_type = exc_type
        self.traceback = traceback
        self.topic = topic
        prefix = f"{exc_type}: " if exc_type else ""
        super().__init__(f"{prefix}{message}")
