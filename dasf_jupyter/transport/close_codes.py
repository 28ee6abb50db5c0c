"""Websocket close codes of the broker's refusals, shared by the broker and the Jupyter proxy."""

from __future__ import annotations

#: the socket's token was revoked or deleted, or its user deactivated (like HTTP 401)
CLOSE_TOKEN_REVOKED = 4401
#: the socket's user lost the right to its topic (like HTTP 403)
CLOSE_RIGHT_REVOKED = 4403
#: close reasons are limited to 123 bytes by the websocket protocol (RFC 6455, 5.5)
MAX_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """``text`` cut to the websocket limit for close reasons (whole characters)."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", errors="ignore") + "..."


def close_code_for_status(status: int) -> int:
    """The close code that reports a refused handshake (HTTP ``status``) on an open socket.

    4xx refusals become 4000 + status (401 → 4401, 403 → 4403, 404 → 4404); anything else
    is a server error (1011).
    """
    return 4000 + status if 400 <= status < 500 else 1011
