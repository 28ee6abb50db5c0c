"""Which endpoint of an in-memory broker a URL names (the routes of our real broker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..errors import DasfError
from ..protocol import STATUS_PING_TOPIC
from ..transport.urls import check_subscription, check_topic

Kind = Literal["produce", "consume", "status"]


class RouteError(DasfError, ValueError):
    """The URL names no endpoint; ``status`` is the HTTP status our broker would refuse with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Route:
    """One websocket endpoint: produce to a topic, consume a subscription, or status-ping."""

    kind: Kind
    topic: str
    subscription: str = ""


def parse_route(url: str, base_path: str) -> Route:
    """The route of ``url`` below ``base_path`` (e.g. ``/ws``), as ``BrokerUrl`` builds them.

    DASF style: ``…/ws/<topic>`` and ``…/ws/<topic>/<subscription>``; Pulsar style:
    ``…/ws/v2/producer/<p>/<t>/<n>/<topic>`` and ``…/ws/v2/consumer/<p>/<t>/<n>/<topic>/<sub>``.
    """
    path = urlsplit(url).path
    if not (path == base_path or path.startswith(base_path.rstrip("/") + "/")):
        raise RouteError(404, f"no websocket route {path!r}; the broker listens on {base_path}")
    segments = [unquote(s) for s in path[len(base_path) :].split("/") if s]
    if segments[:1] == ["v2"]:
        segments = _pulsar_segments(segments[1:], path)
    if segments == [STATUS_PING_TOPIC]:
        return Route("status", STATUS_PING_TOPIC)
    try:
        if len(segments) == 1:
            return Route("produce", check_topic(segments[0]))
        if len(segments) == 2:
            return Route("consume", check_topic(segments[0]), check_subscription(segments[1]))
    except ValueError as exc:
        raise RouteError(400, str(exc)) from None
    raise RouteError(
        404,
        f"no websocket route {path!r}; use {base_path}/<topic> to produce or "
        f"{base_path}/<topic>/<subscription> to consume",
    )


def _pulsar_segments(rest: list[str], path: str) -> list[str]:
    """``[topic]`` or ``[topic, subscription]`` of a Pulsar-style path after ``v2``."""
    if len(rest) == 5 and rest[0] == "producer":
        return rest[4:]
    if len(rest) == 6 and rest[0] == "consumer":
        return rest[4:]
    raise RouteError(404, f"no websocket route {path!r}")
