"""The exception tree of dasf-jupyter: ``except DasfError`` catches every failure of a call.

This module imports nothing of the package, so every layer (``codecs/`` and ``protocol/``
included) can derive its errors from :class:`DasfError`. Classes defined elsewhere are
named with their module; a second base (``ValueError``, ``TypeError``, ``TimeoutError``)
keeps older ``except`` clauses working.

::

    DasfError
    ├── ProtocolError            a frame or payload does not follow the DASF wire format
    │   └── PayloadTooLarge      a message or reassembled payload exceeds a size limit
    ├── InvalidName (ValueError) not a valid topic / subscription name (protocol.names)
    ├── ArgumentError (TypeError) a remote call's arguments do not fit its signature
    ├── CodecError (ValueError)  a value cannot be encoded or decoded
    ├── SchemaError              a schema cannot be built or used
    │   ├── MemberSchemaError (TypeError)   a function/class cannot be served
    │   │                                   (alias backend.schema.SchemaError)
    │   └── FormSchemaError (ValueError)    a JSON schema cannot become a form
    │                                       (alias jupyter.forms.SchemaError)
    ├── RequestValidationError (ValueError) a request does not match the module's schema
    ├── ResultValidationError (ValueError)  a return value does not match its annotation
    │                                       (both backend.schema)
    ├── BrokerError              talking to the broker failed
    │   ├── BrokerRefused        the broker answered a publish with a result other than "ok"
    │   ├── ConnectionLost       the websocket to the broker closed
    │   └── BrokerUnreachable    no broker answers at the URL (client.probe)
    ├── CallTimeout (TimeoutError) no answer (or progress) arrived within the call's timeout
    ├── ModuleNotServed          nobody consumes the request topic
    ├── RemoteError              the backend module answered with an error
    ├── SecurityError            refused by the security layer (tree in security.errors)
    ├── AuthRefused              the broker refuses a token (broker.auth)
    ├── BacklogFull              the broker's global backlog cap is reached (broker.backlog)
    ├── UsageError               the ``dasf`` command line cannot be carried out (cli)
    ├── SettingError (ValueError) an environment variable or flag has a value its setting
    │                            refuses (settings_table)
    ├── NotConnected             a ``%dasf`` command needs a connection (jupyter.session)
    ├── CellModuleError          a ``%%dasf module`` cell cannot be served (jupyter.serve_cell)
    ├── InvalidInput (ValueError) a form field's text is not a value (jupyter.forms)
    └── HelpShown                ``--help`` was printed; a signal, not a failure
                                 (jupyter.magic_args)
"""

from __future__ import annotations


class DasfError(Exception):
    """Base class of every error raised by dasf-jupyter."""


class ProtocolError(DasfError):
    """A frame or payload does not follow the DASF wire format."""


class PayloadTooLarge(ProtocolError):
    """A message, or a payload reassembled from fragments, exceeds its size limit."""


class InvalidName(DasfError, ValueError):
    """Not a valid topic or subscription name (rules in :mod:`dasf_jupyter.protocol.names`)."""


class ArgumentError(DasfError, TypeError):
    """The arguments of a remote call do not fit its signature (raised before sending)."""


class CodecError(DasfError, ValueError):
    """A value cannot be encoded to, or decoded from, its wire form."""


class SchemaError(DasfError):
    """A schema cannot be built from Python code, or cannot be used (base of the two kinds)."""


class MemberSchemaError(SchemaError, TypeError):
    """A function or class cannot be turned into a DASF schema (e.g. it takes ``*args``)."""


class FormSchemaError(SchemaError, ValueError):
    """A JSON schema cannot be turned into a form (bad ``$ref``, unsupported shape)."""


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
