"""Who reaches an in-memory broker: its URLs (by name) and, if it has one, its token."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ..errors import ConnectionLost

#: URL schemes that reach an in-memory broker: its websockets and its HTTP API
SCHEMES = ("memory", "http", "https")


def check_reachable(url: str, name: str, base_url: str, closed: bool) -> None:
    """Raise ConnectionLost, as for a host that does not answer, unless ``url`` is ours."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or parts.netloc != name:
        raise ConnectionLost(f"cannot connect to {url}: this in-memory broker is {base_url}")
    if closed:
        raise ConnectionLost(f"cannot connect to {url}: the in-memory broker is closed")


def auth_refusal(token: str | None, headers: Mapping[str, str]) -> str | None:
    """Why a handshake or request without the broker's ``token`` is refused, or None."""
    if token is None:
        return None
    given = header(headers, "Authorization")
    if not given:
        return "this broker needs a token: pass token=..."
    scheme, _, key = given.partition(" ")
    if scheme.lower() not in ("token", "bearer") or key.strip() != token:
        return "invalid token"
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)
