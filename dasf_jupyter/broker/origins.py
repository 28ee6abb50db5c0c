"""Which browser pages may open websockets to the broker: the handshake's ``Origin`` and ``Host``.

Browsers send ``Origin`` with every websocket handshake and let any web page connect to any
address, ``localhost`` included. Non-browser clients (Python, backends, the Jupyter proxy) send
no ``Origin`` and are not affected. A browser handshake is accepted when

* its ``Host`` is one of the broker's ``ALLOWED_HOSTS`` (defeats DNS rebinding: a foreign page
  whose name now resolves to 127.0.0.1 still sends its own name as ``Host``), and
* its ``Origin`` is listed in ``DASF_ALLOWED_ORIGINS`` (``--allowed-origins``; ``*`` = any), or
  is the broker's own origin (same host and port as the ``Host`` header).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.http.request import split_domain_port, validate_host

log = logging.getLogger(__name__)

#: names under which a loopback broker is reached; always allowed as ``Host``
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def default_allowed_hosts(listen_host: str) -> list[str]:
    """``ALLOWED_HOSTS`` of a broker listening on ``listen_host``: that name and localhost's."""
    hosts = list(LOCAL_HOSTS)
    if listen_host in _WILDCARD_HOSTS:
        # every interface: the machine's own names and addresses
        name = socket.gethostname()
        hosts += [name, socket.getfqdn()]
        with contextlib.suppress(OSError):
            hosts += [str(info[4][0]) for info in socket.getaddrinfo(name, None)]
    else:
        hosts.append(f"[{listen_host}]" if ":" in listen_host else listen_host)
    return list(dict.fromkeys(h.lower() for h in hosts if h))


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; None if not an origin."""
    origin = origin.strip()
    if origin == "null":  # sandboxed frames, file:// pages
        return "null"
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(text: str) -> tuple[str, ...]:
    """The comma-separated origins of ``--allowed-origins``; ValueError names a bad entry."""
    origins = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        if entry == "*":
            origins.append("*")
            continue
        origin = normalize_origin(entry.rstrip("/"))
        if origin is None:
            raise ValueError(
                f"not an origin: {entry!r} (use scheme://host[:port], e.g. http://localhost:8888)"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _host_and_port(host_header: str, scheme: str) -> tuple[str, int] | None:
    domain, port = split_domain_port(host_header.lower())
    if not domain:
        return None
    try:
        return domain, int(port) if port else _DEFAULT_PORTS[scheme]
    except ValueError:
        return None


def _same_origin(origin: str, host_header: str) -> bool:
    """Whether the page's origin is the broker itself (same host and port as ``Host``)."""
    parts = urlsplit(origin)
    page = _host_and_port(parts.netloc, parts.scheme)
    broker = _host_and_port(host_header, parts.scheme)
    return page is not None and page == broker


class OriginPolicy:
    """Decides whether a websocket handshake may proceed."""

    def __init__(self, allowed_origins: Iterable[str], allowed_hosts: list[str]) -> None:
        self.allowed_origins = frozenset(allowed_origins)
        self.allowed_hosts = allowed_hosts

    def refusal(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """None if the handshake may proceed, else why not (safe to show and log)."""
        origin = host = None
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if origin is None:
            return None  # not a browser
        shown = origin[:100]
        domain, _ = split_domain_port((host or "").lower())
        if not domain or not validate_host(domain, self.allowed_hosts):
            return (
                f"websocket from origin {shown!r} refused: host {(host or '')[:100]!r} is not in "
                "the broker's allowed hosts (DASF_ALLOWED_HOSTS)"
            )
        normalized = normalize_origin(origin)
        if "*" in self.allowed_origins or normalized in self.allowed_origins:
            return None
        if normalized not in (None, "null") and _same_origin(normalized, host or ""):
            return None
        return (
            f"websocket from origin {shown!r} refused: not an allowed origin of this broker "
            "(--allowed-origins / DASF_ALLOWED_ORIGINS)"
        )


class OriginGuard:
    """ASGI middleware: refuses websocket handshakes that :class:`OriginPolicy` rejects (403)."""

    def __init__(self, app: Any, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            reason = self.policy.refusal(scope.get("headers") or ())
            if reason is not None:
                await _refuse(scope, receive, send, reason)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: dict, receive: Any, send: Any, reason: str) -> None:
    log.info("refused %s: %s", scope.get("path"), reason)
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": reason.encode("utf-8")})
    else:
        await send({"type": "websocket.close", "code": 1008})
    # wait for the server to end the exchange (as a Channels consumer would): returning before
    # the connection is torn down makes uvicorn report an unfinished handshake
    while (await receive())["type"] != "websocket.disconnect":
        pass
    await asyncio.sleep(0)


def bad_request(request: Any, exception: Exception | None = None) -> Any:
    """Django's 400 handler: say why (an unknown ``Host`` is the usual case) as JSON."""
    from django.core.exceptions import DisallowedHost
    from django.http import JsonResponse

    if isinstance(exception, DisallowedHost):
        host = request.META.get("HTTP_HOST", "")[:100]
        detail = (
            f"host {host!r} is not in the broker's allowed hosts "
            "(DASF_ALLOWED_HOSTS / --allowed-hosts)"
        )
    else:
        detail = "bad request"
    return JsonResponse({"detail": detail}, status=400)
