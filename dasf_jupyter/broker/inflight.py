"""Requests delivered to a backend's consumer socket and not answered yet.

When a consumer socket closes, the requests it received but did not answer would leave
their callers waiting until their own timeout. The broker therefore remembers, per consumer
socket, the ``(response_topic, requestContext)`` of every request it delivered, forgets it
when a final ``response`` for that pair is published through this broker process, and
answers what is left with an error response when the socket goes away (see
``docs/delivery-semantics.md``).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from ..errors import ProtocolError
from ..protocol import MessageType, Prop
from ..protocol.binary import decode_binary_frame, header_end
from ..protocol.deadline import ttl_of
from ..protocol.fragments import fragment_index
from . import frames

#: a request's route back to its caller: (response topic, requestContext as text)
Route = tuple[str, str]

#: texts (binary headers) larger than this are not parsed for their route (Redis mode only)
_PARSE_LIMIT = 1 << 20


class Delivery(str):
    """Delivery text that carries its request's identity through the hub unparsed.

    ``route``: ``(response_topic, requestContext)`` of a request awaiting a reply;
    ``expires``: wall-clock time after which it must not be delivered (from ``dasf_ttl``);
    ``fragment``: ``(index, total)`` when it is one fragment of a fragmented request.
    """

    route: Route | None = None
    expires: float | None = None
    fragment: tuple[int, int] | None = None


class BinaryDelivery(bytes):
    """A binary delivery frame that carries its request's identity like :class:`Delivery`."""

    route: Route | None = None
    expires: float | None = None
    fragment: tuple[int, int] | None = None


Tagged = Delivery | BinaryDelivery


def tag(
    data: str | bytes,
    route: Route | None,
    expires: float | None = None,
    fragment: tuple[int, int] | None = None,
) -> str | bytes:
    """``data`` carrying ``route``, ``expires`` and ``fragment`` (untagged without a route)."""
    if route is None:
        return data
    tagged = BinaryDelivery(data) if isinstance(data, bytes) else Delivery(data)
    tagged.route, tagged.expires, tagged.fragment = route, expires, fragment
    return tagged


def expired(data: str | bytes, now: float | None = None) -> bool:
    """True when ``data`` is a request whose caller's deadline has passed."""
    expires = getattr(data, "expires", None)
    return expires is not None and (time.time() if now is None else now) > expires


def affinity_key(data: str | bytes) -> str | None:
    """Identity shared by all fragments of one request (None for unfragmented messages).

    The fragments of one request must all reach the same consumer of a subscription.
    """
    route = getattr(data, "route", None)
    if route is None or getattr(data, "fragment", None) is None:
        return None
    return f"{route[0]}\t{route[1]}"


def is_last_fragment(data: str | bytes) -> bool:
    fragment = getattr(data, "fragment", None)
    return fragment is not None and fragment[0] == fragment[1] - 1


def request_route(frame: dict[str, Any]) -> Route | None:
    """``(response_topic, requestContext)`` of a request awaiting a reply, else None."""
    if not frames.expects_reply(frame):
        return None
    response_topic = frames.response_topic_of(frame)
    if response_topic is None or response_topic == "status-ping":
        return None  # status-ping: the broker's own probes
    return (response_topic, str(frames.properties_of(frame).get(Prop.REQUEST_CONTEXT)))


def mark_delivery(
    data: str | bytes, frame: dict[str, Any], now: float | None = None
) -> str | bytes:
    """``data`` tagged with the identity of ``frame`` if it is a request awaiting a reply.

    Its deadline is ``now`` (the broker's clock, at receipt) plus the request's ``dasf_ttl``.
    """
    route = request_route(frame)
    if route is None:
        return data
    props = frames.properties_of(frame)
    ttl = ttl_of(props)
    expires = None if ttl is None else (time.time() if now is None else now) + ttl
    try:
        fragment = fragment_index(props)
    except ProtocolError:
        fragment = None
    return tag(data, route, expires, fragment)


def route_of(data: str | bytes) -> Route | None:
    """The route of a delivery: from its tag, or (deliveries from Redis) by parsing it.

    Text is parsed only when small; a binary frame's header is parsed whatever its payload.
    """
    if isinstance(data, (Delivery, BinaryDelivery)):
        return data.route
    if isinstance(data, bytes):
        return _binary_route(data)
    if len(data) > _PARSE_LIMIT or '"response_topic"' not in data:
        return None
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    return request_route(frame) if isinstance(frame, dict) else None


def _binary_route(data: bytes) -> Route | None:
    try:
        end = header_end(data)
        if end > _PARSE_LIMIT or b'"response_topic"' not in data[4:end]:
            return None
        header, _ = decode_binary_frame(data)
    except ProtocolError:
        return None
    return request_route(header)


def final_response_route(frame: dict[str, Any], topic: str) -> Route | None:
    """The route a published frame answers for good (a response, or its last fragment)."""
    props = frames.properties_of(frame)
    if props.get(Prop.MESSAGE_TYPE) != MessageType.RESPONSE.value:
        return None
    fragment, count = props.get(Prop.FRAGMENT), props.get(Prop.NUM_FRAGMENTS)
    if fragment is not None and count is not None:
        try:
            if int(fragment) != int(count) - 1:
                return None
        except (TypeError, ValueError):
            return None
    return (topic, str(props.get(Prop.REQUEST_CONTEXT)))


class InFlightRequests:
    """Unanswered requests per consumer socket of this broker process (bounded)."""

    def __init__(self, max_per_consumer: int = 10_000) -> None:
        self._max = max_per_consumer
        self._by_consumer: dict[int, OrderedDict[Route, str]] = {}
        self._owner: dict[Route, int] = {}

    def __len__(self) -> int:
        return len(self._owner)

    def delivered(self, consumer: int, topic: str, route: Route) -> None:
        """``consumer`` (a socket's id) received the request of ``route`` on ``topic``."""
        routes = self._by_consumer.setdefault(consumer, OrderedDict())
        routes[route] = topic
        self._owner[route] = consumer
        if len(routes) > self._max:  # forget the oldest: bounded memory beats completeness
            old, _ = routes.popitem(last=False)
            self._owner.pop(old, None)

    def answered(self, route: Route) -> None:
        """A final response for ``route`` was published."""
        consumer = self._owner.pop(route, None)
        if consumer is not None:
            routes = self._by_consumer.get(consumer)
            if routes is not None:
                routes.pop(route, None)

    def take(self, consumer: int) -> list[tuple[str, Route]]:
        """Forget ``consumer``; return its unanswered ``(topic, route)`` pairs."""
        routes = self._by_consumer.pop(consumer, OrderedDict())
        for route in routes:
            if self._owner.get(route) == consumer:
                del self._owner[route]
        return [(topic, route) for route, topic in routes.items()]
