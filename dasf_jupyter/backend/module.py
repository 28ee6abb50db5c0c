"""``BackendModule``: plain Python functions and classes served on a DASF topic."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..protocol import API_INFO_EXTENSION, DEFAULT_FRAGMENT_SIZE
from ..protocol.body import BINARY_BODY
from ..security import AllowList, ModuleKeyPair, SecurityMode, SecurityPolicy, replay_store
from ..transport import auth_headers, check_subscription, check_topic
from .config import ModuleSettings, module_settings, replay_redis_url
from .dispatch import Dispatcher
from .schema import ModuleSchema, load_members
from .serve import ModuleServer, ServeHandle
from .tracebacks import TracebackPolicy

log = logging.getLogger(__name__)


class BackendModule:
    """Functions and classes exposed under one topic, servable on a DASF broker.

    ::

        module = BackendModule("demo", [add, Greeter])
        module.serve("ws://localhost:8000/ws")          # blocks until Ctrl-C / stop()
        with module.serve_in_background(url) as handle:  # or in a background thread
            ...

    ``subscription``: the broker subscription to consume (default ``backend-module``).
    Replicas of a topic with the same name share the calls, each call running in one of
    them; a replica with a different name receives and runs every call as well.
    """

    def __init__(
        self,
        topic: str,
        members: Sequence[Callable | type] | None = None,
        description: str | None = None,
        *,
        max_workers: int = 4,
        queue_size: int | None = None,
        send_traceback: TracebackPolicy = False,
        fragment_size: int = DEFAULT_FRAGMENT_SIZE,
        forward_output: bool = False,
        subscription: str | None = None,
        security: SecurityPolicy | SecurityMode | str = "plain",
        key_path: str | Path | None = None,
        allow_list: AllowList | str | Path | None = None,
        require_auth: bool = False,
        redis_url: str | None = None,
        settings: ModuleSettings | None = None,
    ) -> None:
        self.topic = check_topic(topic)
        self._settings = settings
        if redis_url is None and settings is not None:
            redis_url = settings.redis_url or None
        self.security = make_policy(
            self.topic, security, key_path, allow_list, require_auth, redis_url
        )
        self.schema = ModuleSchema(topic, list(members or []), description)
        self.max_workers = max_workers
        self.queue_size = queue_size
        self.send_traceback = send_traceback
        self.fragment_size = fragment_size
        self.forward_output = forward_output
        self.subscription = None if subscription is None else check_subscription(subscription)
        self._servers: list[ModuleServer] = []
        self._lock = threading.Lock()

    @property
    def settings(self) -> ModuleSettings:
        """The settings given, else the environment's (read now: DASF_BINARY, fragments …)."""
        return self._settings if self._settings is not None else module_settings()

    @classmethod
    def from_path(cls, target: str, topic: str, **kwargs: Any) -> BackendModule:
        """A module from a ``file.py`` or dotted module name (``__all__`` or public members)."""
        members, docstring = load_members(target)
        kwargs.setdefault("description", docstring)
        return cls(topic, members, **kwargs)

    def api_info(self) -> dict:
        """The ``ModuleAPIModel`` answer to ``api_info`` (PROTOCOL.md §11).

        It also carries our extension keys, which reference peers ignore: the module's
        description, that it reassembles fragmented requests, the binary body format it reads
        and writes (docs/binary-frames.md), and its security (mode,
        public key and fingerprint).
        """
        info = self.schema.api_info()
        info.update(self.security.api_info_extension())
        info[API_INFO_EXTENSION] = {
            "request_fragments": True,
            "description": self.schema.description,
            "binary_bodies": [BINARY_BODY] if self.settings.binary else [],
        }
        return info

    def info_schema(self) -> dict:
        """The module JSON Schema answered to ``info``."""
        return self.schema.info_schema()

    def dispatcher(self) -> Dispatcher:
        """The message logic of this module (no I/O)."""
        return Dispatcher(
            self.topic,
            self.schema,
            info=json.dumps(self.info_schema()),
            api_info=json.dumps(self.api_info()),
            send_traceback=self.send_traceback,
            fragment_size=self.fragment_size,
            forward_output=self.forward_output,
            security=self.security,
            fragment_limits=self.settings.fragment_limits(),
        )

    def _server(self, url: str, token: str | None, headers: dict | None) -> ModuleServer:
        server = ModuleServer(
            self.dispatcher(),
            url,
            {**auth_headers(token), **(headers or {})},
            subscription=self.subscription,
            max_workers=self.max_workers,
            queue_size=self.queue_size,
        )
        server.connect()  # connection errors surface here, before anything runs
        server.on_stopped.append(self._forget)
        with self._lock:
            self._servers.append(server)
        return server

    def serve(self, url: str, token: str | None = None, *, headers: dict | None = None) -> None:
        """Serve on the broker at ``url`` until :meth:`stop` or Ctrl-C."""
        server = self._server(url, token, headers)
        try:
            server.run()
        except KeyboardInterrupt:
            log.info("interrupted; stopped serving %r", self.topic)

    def serve_in_background(
        self, url: str, token: str | None = None, *, headers: dict | None = None
    ) -> ServeHandle:
        """Serve in a background thread; returns once connected (or raises the error)."""
        return ServeHandle(self._server(url, token, headers))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every server of this module (for :meth:`serve` running in another thread)."""
        with self._lock:
            servers = list(self._servers)
        for server in servers:
            server.stop(timeout)
        for server in servers:
            server.stopped.wait(timeout + 5.0)

    def _forget(self, server: ModuleServer) -> None:
        with self._lock:
            if server in self._servers:
                self._servers.remove(server)

    def __repr__(self) -> str:
        return f"<BackendModule topic={self.topic!r} security={self.security.mode.value!r}>"


def make_policy(
    topic: str,
    security: SecurityPolicy | SecurityMode | str,
    key_path: str | Path | None = None,
    allow_list: AllowList | str | Path | None = None,
    require_auth: bool = False,
    redis_url: str | None = None,
) -> SecurityPolicy:
    """The module's :class:`SecurityPolicy` from a mode and paths (or the policy as given).

    The key pair is loaded from ``key_path`` (default: the per-user key of ``topic``) and
    created there on first use; an allow list given as a path is re-read when it changes.
    Seen request nonces go to Redis (``redis_url`` or ``DASF_REDIS_URL``) or to
    ``<key file>.seen``, so replicas and restarts refuse a replay too.
    """
    if isinstance(security, SecurityPolicy):
        if key_path is not None or allow_list is not None or require_auth or redis_url:
            raise ValueError(
                "pass key_path/allow_list/require_auth/replay_cache in the SecurityPolicy"
            )
        return security
    mode = SecurityMode(security)
    if require_auth and allow_list is None:
        raise ValueError("require_auth=True needs an allow_list (file of user public keys)")
    keypair = None
    key_file = Path(key_path).expanduser() if key_path else ModuleKeyPair.default_path(topic)
    if mode is not SecurityMode.PLAIN:
        keypair = ModuleKeyPair.load_or_create(key_file, topic)
    if allow_list is not None and not isinstance(allow_list, AllowList):
        allow_list = AllowList(allow_list)
    seen = None
    if mode is not SecurityMode.PLAIN or allow_list is not None:
        seen = replay_store(
            key_file.with_name(key_file.name + ".seen"),
            scope=keypair.fingerprint if keypair else topic,
            redis_url=redis_url or replay_redis_url(),
        )
    return SecurityPolicy(mode, keypair, allow_list, require_auth=require_auth, replay_cache=seen)
