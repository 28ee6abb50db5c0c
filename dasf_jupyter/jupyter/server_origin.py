"""The web origins of the Jupyter server, which its embedded DASF brokers accept pages from."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_LOOPBACK = ("localhost", "127.0.0.1", "::1", "")
_WILDCARD = ("0.0.0.0", "::")


def _host(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def jupyter_origins(scheme: str, ip: str, port: int) -> list[str]:
    """Origins under which a browser reaches a Jupyter server listening on ``ip:port``."""
    names = [ip] if ip and ip not in _WILDCARD else []
    if ip in _LOOPBACK or ip in _WILDCARD:  # reachable (and usually opened) as localhost
        names += ["localhost", "127.0.0.1"]
    return list(dict.fromkeys(f"{scheme}://{_host(name)}:{port}" for name in names))


def origins_from_url(url: str) -> list[str]:
    """Origins of a Jupyter server URL (e.g. ``$JUPYTER_SERVER_URL``); [] if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    return jupyter_origins(parts.scheme, parts.hostname, port)


def kernel_server_origins() -> list[str]:
    """The origins of the Jupyter server running this kernel, as far as the environment says."""
    return origins_from_url(os.environ.get("JUPYTER_SERVER_URL", ""))
