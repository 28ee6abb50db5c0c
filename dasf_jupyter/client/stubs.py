"""Callable stand-ins for a remote module's functions and classes."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ..codecs import encode_by_schema
from ..codecs.attachments import Attachments, collecting
from ..protocol import API_INFO_EXTENSION
from .pending import LogCallback, ProgressCallback
from .results import decode_result
from .signature import RemoteParameters

if TYPE_CHECKING:
    from .connection import Connection

Wrap = Callable[[dict[str, Any]], dict[str, Any]]


def _encode_args(params: RemoteParameters, values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: encode_by_schema(value, params.schemas.get(name, {}), params.defs)
        for name, value in values.items()
    }


class _Routine:
    """Makes ``help()`` and ``inspect`` treat instances like functions (method descriptors)."""

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return self


class RemoteFunction(_Routine):
    """A function (or method) of a remote module; call it like the original."""

    def __init__(
        self,
        connection: Connection,
        topic: str,
        api: dict[str, Any],
        *,
        wrap: Wrap | None = None,
        qualname: str | None = None,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
    ) -> None:
        self.connection = connection
        self.topic = topic
        self.api = api
        self.name: str = api["name"]
        self.rpc_schema: dict[str, Any] = api.get("rpc_schema") or {}
        self.return_schema: dict[str, Any] = api.get("return_schema") or {}
        self._params = RemoteParameters.from_schema(self.rpc_schema, self.return_schema)
        self._wrap = wrap
        self._timeout = timeout
        self._on_progress = on_progress
        self._on_log = on_log
        self.__name__ = self.name
        self.__qualname__ = qualname or self.name
        self.__signature__ = self._params.signature
        description = self.rpc_schema.get("description")
        self.__doc__ = self._params.docstring(description, self.return_schema)

    def __repr__(self) -> str:
        return f"<remote function {self.__qualname__}{self.__signature__} on {self.topic!r}>"

    def options(
        self,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
    ) -> RemoteFunction:
        """A copy that uses this timeout and these callbacks for every call."""
        return RemoteFunction(
            self.connection,
            self.topic,
            self.api,
            wrap=self._wrap,
            qualname=self.__qualname__,
            timeout=timeout if timeout is not None else self._timeout,
            on_progress=on_progress or self._on_progress,
            on_log=on_log or self._on_log,
        )

    def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The request payload a call with these arguments sends (validated locally)."""
        values = self._params.bind(f"{self.__qualname__}()", args, kwargs)
        payload = {"func_name": self.name, **_encode_args(self._params, values)}
        return self._wrap(payload) if self._wrap else payload

    def _binary_request(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], Attachments | None]:
        """The request, with large byte values as attachments when the module reads them."""
        with collecting(self.connection.speaks_binary(self.topic)) as attachments:
            return self.request(*args, **kwargs), attachments

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request, attachments = self._binary_request(args, kwargs)
        raw = self.connection.call(
            self.topic,
            request,
            timeout=self._timeout,
            on_progress=self._on_progress,
            on_log=self._on_log,
            attachments=attachments,
            accept_binary=True,
        )
        return decode_result(raw, self.return_schema)

    def submit(
        self, *args: Any, on_progress: ProgressCallback | None = None, **kwargs: Any
    ) -> Future[Any]:
        """Start the call and return a future of the decoded result."""
        request, attachments = self._binary_request(args, kwargs)
        raw = self.connection.submit(
            self.topic,
            request,
            timeout=self._timeout,
            on_progress=on_progress or self._on_progress,
            on_log=self._on_log,
            attachments=attachments,
            accept_binary=True,
        )
        result: Future[Any] = Future()
        raw.add_done_callback(lambda f: _decode_into(result, f, self.return_schema))
        return result


def _decode_into(target: Future[Any], source: Future[Any], schema: dict[str, Any]) -> None:
    if not target.set_running_or_notify_cancel():
        return  # the caller cancelled the future; the result is dropped
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
        return
    try:
        target.set_result(decode_result(source.result(), schema))
    except Exception as err:  # a codec failure belongs to the caller, not the reader thread
        target.set_exception(err)


class RemoteObject:
    """An instance of a remote class: constructor arguments plus callable methods.

    The backend creates a fresh instance for every method call from these arguments.
    """

    def __init__(self, cls: RemoteClass, ctor_args: dict[str, Any]) -> None:
        self._class = cls
        self._ctor_args = ctor_args
        for api in cls.api.get("methods", []):
            method = RemoteFunction(
                cls.connection,
                cls.topic,
                api,
                wrap=self._wrap,
                qualname=f"{cls.name}.{api['name']}",
            )
            setattr(self, api["name"], method)

    def _wrap(self, call: dict[str, Any]) -> dict[str, Any]:
        return {"class_name": self._class.name, **self._ctor_args, "function": call}

    def __dir__(self) -> list[str]:
        return [m["name"] for m in self._class.api.get("methods", [])]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._ctor_args.items())
        return f"<remote {self._class.name}({args[:200]}) on {self._class.topic!r}>"


class RemoteClass(_Routine):
    """A class of a remote module; calling it with constructor arguments gives an object."""

    def __init__(self, connection: Connection, topic: str, api: dict[str, Any]) -> None:
        self.connection = connection
        self.topic = topic
        self.api = api
        self.name: str = api["name"]
        self.rpc_schema: dict[str, Any] = api.get("rpc_schema") or {}
        self._params = RemoteParameters.from_schema(self.rpc_schema)
        self.methods = [m["name"] for m in api.get("methods", [])]
        self.__name__ = self.__qualname__ = self.name
        self.__signature__ = self._params.signature.replace(return_annotation=self.name)
        doc = self._params.docstring(self.rpc_schema.get("description"), None)
        lines = [doc, "", "Methods", "-------"]
        for method in api.get("methods", []):
            sig = RemoteParameters.from_schema(method.get("rpc_schema") or {}).signature
            summary = ((method.get("rpc_schema") or {}).get("description") or "").split("\n")[0]
            lines.append(f"{method['name']}{sig}")
            if summary:
                lines.append(f"    {summary}")
        self.__doc__ = "\n".join(lines)

    def __call__(self, *args: Any, **kwargs: Any) -> RemoteObject:
        values = self._params.bind(f"{self.name}()", args, kwargs)
        return RemoteObject(self, _encode_args(self._params, values))

    def __repr__(self) -> str:
        return f"<remote class {self.name}{self.__signature__} on {self.topic!r}>"


def module_description(api_info: dict[str, Any]) -> str | None:
    """The module's description: our extension key, else a non-generic schema description."""
    extension = api_info.get(API_INFO_EXTENSION)
    if isinstance(extension, dict) and extension.get("description"):
        return str(extension["description"])
    text = (api_info.get("rpc_schema") or {}).get("description")
    return text if text and text != "The member to call." else None


class RemoteModule:
    """The functions and classes a backend module serves on ``topic``."""

    #: the stub type of the module's functions (a subclass may show progress, say)
    function_type: type[RemoteFunction] = RemoteFunction

    def __init__(self, connection: Connection, topic: str, api_info: dict[str, Any]) -> None:
        self.connection = connection
        self.topic = topic
        self.api_info = api_info
        self.description = module_description(api_info)
        self._members: dict[str, RemoteFunction | RemoteClass] = {}
        for api in api_info.get("functions", []):
            self._members[api["name"]] = self.function_type(connection, topic, api)
        for api in api_info.get("classes", []):
            self._members[api["name"]] = RemoteClass(connection, topic, api)
        self.__doc__ = self._docstring()

    def __getattr__(self, name: str) -> Any:
        members = self.__dict__.get("_members", {})
        if name in members:
            return members[name]
        available = ", ".join(sorted(members)) or "none"
        raise AttributeError(
            f"the module on topic {self.__dict__.get('topic')!r} has no member {name!r} "
            f"(available: {available})"
        )

    def __getitem__(self, name: str) -> RemoteFunction | RemoteClass:
        return self._members[name]

    def members(self) -> dict[str, RemoteFunction | RemoteClass]:
        """The module's functions and classes by name, in the order the module serves them."""
        return dict(self._members)

    def __dir__(self) -> list[str]:
        return sorted(self._members) + ["api_info", "description", "topic"]

    def __repr__(self) -> str:
        return f"<remote module {self.topic!r}: {', '.join(self._members)}>"

    def _docstring(self) -> str:
        lines = [self.description or f"Backend module on topic {self.topic!r}.", ""]
        for name, member in self._members.items():
            kind = "class " if isinstance(member, RemoteClass) else ""
            summary = (member.rpc_schema.get("description") or "").split("\n")[0]
            lines.append(f"{kind}{name}{inspect.signature(member)}")
            if summary:
                lines.append(f"    {summary}")
        return "\n".join(lines)
