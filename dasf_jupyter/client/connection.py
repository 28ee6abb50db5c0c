"""A client's connection to a DASF broker: raw calls, module discovery, lifecycle."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from ..codecs.attachments import Attachments
from ..errors import ConnectionLost, DasfError, ProtocolError
from ..peer_config import ClientSettings, client_settings
from ..protocol import (
    API_INFO_EXTENSION,
    DEFAULT_FRAGMENT_SIZE,
    MessageType,
    Prop,
    encode_json_payload,
)
from ..protocol.body import BINARY_BODY, encode_body
from ..protocol.envelope import Envelope
from ..security import SecurityInfo
from ..transport import BrokerUrl, Transport, auth_headers, check_topic
from .channel import TopicChannel
from .discovery import ModuleInfo, list_modules
from .options import Security, SecurityKeywords, security_from
from .pending import LogCallback, PendingCall, ProgressCallback
from .pong import PongResponder

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .stubs import RemoteModule

#: seconds an ``api_info`` request waits for a module before ModuleNotServed
DEFAULT_DISCOVERY_TIMEOUT = 10.0


class Connection:
    """Calls backend modules through one broker; thread-safe; a context manager.

    Per request topic it keeps one producer socket and one consumer on a private response
    topic; any number of concurrent calls share them.

    ``security`` (a :class:`~dasf_jupyter.client.options.Security`) or its fields as
    keywords (``identity=``, ``trust=``, ``encrypt=``, ``known_modules=``) set up end-to-end
    encryption and signing; ``transport`` opens the sockets (default: real websockets; see
    :mod:`dasf_jupyter.testing` for an in-memory one).
    """

    def __init__(  # noqa: PLR0913 - keyword-only options; security ones are grouped
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 600.0,
        headers: dict[str, str] | None = None,
        discovery_timeout: float = DEFAULT_DISCOVERY_TIMEOUT,
        fragment_size: int = DEFAULT_FRAGMENT_SIZE,
        max_payload: int | None = None,
        security: Security | None = None,
        transport: Transport | None = None,
        settings: ClientSettings | None = None,
        **security_fields: Unpack[SecurityKeywords],
    ) -> None:
        if not timeout > 0 or timeout == float("inf"):
            raise ValueError("timeout must be a finite positive number of seconds")
        self.broker = BrokerUrl.parse(url)
        self.url = url
        self.timeout = timeout
        self.discovery_timeout = discovery_timeout
        self.fragment_size = fragment_size
        #: DASF_BINARY, fragment bounds …: default from the environment, read here (the edge)
        self.settings = settings if settings is not None else client_settings()
        #: largest reply (default DASF_CLIENT_FRAGMENTS_MAX_PAYLOAD, 1 GiB)
        self.max_payload = (
            self.settings.fragments_max_payload if max_payload is None else max_payload
        )
        self._headers = {**auth_headers(token), **(headers or {})}
        self._channels: dict[str, TopicChannel] = {}
        self._lock = threading.Lock()
        self._contexts = itertools.count(1)
        self._fragmenting_topics: set[str] = set()
        #: topics whose module reads and writes binary bodies (docs/binary-frames.md)
        self._binary_topics: set[str] = set()
        self.transport = transport
        self._pongs = PongResponder(self.broker, self._headers, transport=transport)
        self._closed = False
        #: the security options this connection was opened with
        self.options = security_from(security, security_fields)
        #: keys and pins in use (trust grows with :meth:`trust`)
        self.security = self.options.client_security()
        #: api_info of each discovered topic: what requests are sealed to and signed for
        self._api_infos: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<dasf Connection to {self.broker}>"

    @property
    def authenticated(self) -> bool:
        """Whether the connection sends credentials (a token or an Authorization header)."""
        return any(key.lower() == "authorization" for key in self._headers)

    # -- raw calls ---------------------------------------------------------------------------

    def submit(
        self,
        topic: str,
        request: dict[str, Any],
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
        attachments: Attachments | None = None,
        accept_binary: bool = False,
    ) -> Future[Any]:
        """Send a request payload; the future resolves with the raw JSON result.

        ``attachments`` (collected while encoding ``request``, see :meth:`speaks_binary`)
        travel as raw bytes; with ``accept_binary`` the result may hold raw byte values
        (memoryviews) where a codec would put base64 — for callers that decode by schema.
        """
        return self._start(
            topic,
            request,
            timeout,
            on_progress=on_progress,
            on_log=on_log,
            attachments=attachments,
            accept_binary=accept_binary,
        ).future

    def call(
        self,
        topic: str,
        request: dict[str, Any],
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
        attachments: Attachments | None = None,
        accept_binary: bool = False,
    ) -> Any:
        """Send a request payload and wait for its raw JSON result (see :meth:`submit`)."""
        call = self._start(
            topic,
            request,
            timeout,
            on_progress=on_progress,
            on_log=on_log,
            attachments=attachments,
            accept_binary=accept_binary,
        )
        return wait_for(call)

    def speaks_binary(self, topic: str) -> bool:
        """True when requests to ``topic`` may carry binary bodies (docs/binary-frames.md).

        The module announced the format, nothing is sealed or signed, and ``DASF_BINARY``
        is not ``0``.
        """
        if topic not in self._binary_topics or self.security.identity is not None:
            return False
        if not self.settings.binary:
            return False
        info = SecurityInfo.from_api_info(self._api_infos.get(topic))
        return info is None or not info.encrypts

    def api_info(self, topic: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The module's api_info (ModuleAPIModel as a dict); ModuleNotServed if none answers."""
        call = self._new_call(topic, "api_info", timeout or self.discovery_timeout, discovery=True)
        self._channel(topic).send(
            call, Envelope("", {Prop.MESSAGE_TYPE: MessageType.API_INFO.value}), None
        )
        info = wait_for(call)
        if not isinstance(info, dict) or not isinstance(info.get("functions", []), list):
            raise ProtocolError(f"topic {topic!r} answered api_info with {str(info)[:200]!r}")
        extension = info.get(API_INFO_EXTENSION)
        if isinstance(extension, dict) and extension.get("request_fragments"):
            self._fragmenting_topics.add(topic)
        else:
            self._fragmenting_topics.discard(topic)
        bodies = extension.get("binary_bodies") if isinstance(extension, dict) else None
        if isinstance(bodies, list) and BINARY_BODY in bodies:
            self._binary_topics.add(topic)
        else:
            self._binary_topics.discard(topic)
        # a changed (unpinned, untrusted) module key is refused here, before any call
        self.security.module_key(SecurityInfo.from_api_info(info), topic)
        self._api_infos[topic] = info
        return info

    def trust(self, topic: str, fingerprint: str) -> None:
        """Accept ``fingerprint`` as the key of ``topic`` (pinned at the next discovery).

        The way out of :class:`~dasf_jupyter.security.KeyChanged` after a key rotation
        you have verified; ``module(topic)`` then works again.
        """
        check_topic(topic)
        self.security.trust[topic] = fingerprint
        self._api_infos.pop(topic, None)

    def module(self, topic: str, *, timeout: float | None = None) -> RemoteModule:
        """Discover the module served on ``topic`` and return callable stubs for it."""
        from .stubs import RemoteModule

        return RemoteModule(self, topic, self.api_info(topic, timeout=timeout))

    def modules(self) -> list[ModuleInfo]:
        """Modules the broker knows (needs the discovery API of the dasf-jupyter broker)."""
        return list_modules(self.broker.http_base, self._headers, transport=self.transport)

    @property
    def dropped_replies(self) -> int:
        """Messages on our response topics dropped because they did not verify (injected)."""
        with self._lock:
            channels = list(self._channels.values())
        return sum(channel.guard.dropped for channel in channels)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every socket; calls still pending fail with ConnectionLost."""
        with self._lock:
            self._closed = True
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.close()
        self._pongs.close()

    # -- internals ---------------------------------------------------------------------------

    def _start(
        self,
        topic: str,
        request: dict[str, Any],
        timeout: float | None,
        *,
        on_progress: ProgressCallback | None,
        on_log: LogCallback | None,
        attachments: Attachments | None,
        accept_binary: bool,
    ) -> PendingCall:
        if not isinstance(request, dict):
            raise TypeError(f"a request must be a dict, got {type(request).__name__}")
        what = f"{request.get('func_name') or request.get('class_name') or 'request'}()"
        call = self._new_call(topic, what, timeout, on_progress=on_progress, on_log=on_log)
        props: dict[str, Any] = {Prop.MESSAGE_TYPE: MessageType.REQUEST.value}
        info = self._api_info_for(topic)
        has_attachments = attachments is not None and bool(attachments.buffers)
        if self.speaks_binary(topic):
            # raw JSON (plus attachments): a binary frame where the broker takes one
            _, props, call.opener = self.security.prepare(info, topic, call.context, "", props)
            body = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
            if has_attachments:
                assert attachments is not None
                body = encode_body(body, attachments.buffers, attachments.nonce)
                props[Prop.BODY] = BINARY_BODY
            if accept_binary:
                props[Prop.ACCEPT] = BINARY_BODY
            envelope = Envelope("", props, data=body)
        else:
            if has_attachments:
                raise ValueError(
                    f"topic {topic!r} does not read binary bodies: encode the request "
                    "without collecting attachments"
                )
            # sealed and signed before fragmenting: fragments carry ciphertext only
            payload, props, call.opener = self.security.prepare(
                info, topic, call.context, encode_json_payload(request), props
            )
            envelope = Envelope(payload, props)
        fragment_size = self.fragment_size if topic in self._fragmenting_topics else None
        self._channel(topic).send(call, envelope, fragment_size)
        return call

    def _api_info_for(self, topic: str) -> dict[str, Any] | None:
        """The api_info requests to ``topic`` are prepared with; discovered when it matters.

        Without a known api_info the request goes out plain (unsigned unless we have an
        identity), as a reference client's would — unless the topic must be sealed (a pinned
        or trusted key, ``encrypt="always"``): then it is discovered first, and a module that
        no longer offers its key is refused (:class:`~dasf_jupyter.security.DowngradeRefused`).
        """
        info = self._api_infos.get(topic)
        if info is not None:
            return info
        security = self.security
        if security.identity is not None or security.requires_encryption(topic):
            return self.api_info(topic)
        return None

    def _new_call(
        self, topic: str, what: str, timeout: float | None, **options: Any
    ) -> PendingCall:
        check_topic(topic)
        # digits only: dasf-broker-django stores requestContext in an integer column
        context = str(next(self._contexts))
        return PendingCall(context, topic, what, timeout or self.timeout, **options)

    def _channel(self, topic: str) -> TopicChannel:
        with self._lock:
            if self._closed:
                raise DasfError("this connection is closed; open a new one with connect()")
            channel = self._channels.get(topic)
            if channel is None or not channel.alive:
                if channel is not None:
                    channel.close()
                try:
                    channel = TopicChannel(
                        self.broker,
                        self._headers,
                        topic,
                        fragment_limits=self.settings.fragment_limits(self.max_payload),
                        log_interval=self.settings.log_summary_interval,
                        send_pong=self._pongs.answer,
                        transport=self.transport,
                    )
                except ConnectionLost as exc:
                    raise ConnectionLost(
                        f"{exc} — is the broker running, and is {self.url!r} its websocket URL?"
                    ) from None
                self._channels[topic] = channel
            return channel


def wait_for(call: PendingCall) -> Any:
    """Block until ``call`` ends; its deadline (reset by progress) bounds the wait."""
    while True:
        try:
            return call.future.result(timeout=max(call.remaining(), 0.0) + 1.0)
        except FutureTimeout:
            # CallTimeout is a TimeoutError too: only a future still pending means "wait on"
            if call.future.done():
                raise
            if call.remaining() <= 0:
                call.expire()


def connect(
    url: str,
    token: str | None = None,
    *,
    timeout: float = 600.0,
    security: Security | None = None,
    transport: Transport | None = None,
    **options: Any,
) -> Connection:
    """Open a :class:`Connection` to the broker at ``url`` (e.g. ``ws://host:8000/ws``).

    Requests to modules that offer end-to-end encryption are sealed (``encrypt="always"``,
    or ``"required"``, refuses modules that do not); their keys are pinned in
    ``known_modules`` (default: the per-user file) unless ``trust={topic: fingerprint}`` names
    them. A pinned or trusted topic is never called in plaintext (``DowngradeRefused``).
    ``identity`` (an :class:`~dasf_jupyter.security.IdentityKey` or the path of one made by
    ``dasf keygen``) signs every request. These four may come as one
    ``security=Security(...)``. Other ``options`` are those of :class:`Connection`
    (``headers``, ``discovery_timeout``, ``fragment_size``, ``max_payload``, ``settings``).
    """
    return Connection(
        url, token, timeout=timeout, security=security, transport=transport, **options
    )
