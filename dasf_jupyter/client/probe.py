"""Checking that a DASF broker answers at a URL before using it."""

from __future__ import annotations

from ..errors import BrokerError, BrokerRefused, ConnectionLost
from ..transport import WEBSOCKETS, BrokerUrl, Transport, auth_headers

#: the route every DASF broker (ours and dasf-broker-django) serves to any authenticated peer
PROBE_TOPIC = "status-ping"
DEFAULT_PROBE_TIMEOUT = 5.0


class BrokerUnreachable(BrokerError):
    """No DASF broker answered at the URL (nothing listens, or not a websocket endpoint)."""


def check_broker(
    url: str,
    token: str | None = None,
    timeout: float = DEFAULT_PROBE_TIMEOUT,
    *,
    transport: Transport | None = None,
) -> None:
    """Open and close a websocket to the broker's ``status-ping`` route; raise if it fails.

    Raises :class:`BrokerUnreachable` when nothing (or no broker) answers within ``timeout``
    seconds, :class:`~dasf_jupyter.errors.BrokerError` when the broker refuses the token.
    """
    broker = BrokerUrl.parse(url)
    probe = broker.producer(PROBE_TOPIC)
    try:
        socket = (transport or WEBSOCKETS).open(probe, auth_headers(token), open_timeout=timeout)
    except ConnectionLost as exc:
        raise BrokerUnreachable(f"no DASF broker answers at {url}: {_reason(exc)}") from None
    except BrokerRefused as exc:
        status = exc.result.split(":", 1)[0]
        if status in ("HTTP 401", "HTTP 403"):
            raise BrokerError(
                f"the broker at {url} refused the connection ({exc.result}); check the token"
            ) from None
        raise BrokerUnreachable(
            f"no DASF broker answers at {url}: {probe} answered {exc.result}"
        ) from None
    socket.close()


def _reason(exc: Exception) -> str:
    text = str(exc)
    _, _, reason = text.partition(": ")
    return reason or text
