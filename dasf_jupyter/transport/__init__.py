"""Websocket connections to a DASF broker (blocking, thread-safe adapters)."""

from .base import FrameSocket, HttpAnswer, Transport
from .sockets import ConsumerSocket, ProducerPool, ProducerSocket
from .urls import BrokerUrl, auth_headers, check_subscription, check_topic
from .websocket import DEFAULT_MAX_MESSAGE, WEBSOCKETS, WebsocketTransport, open_websocket

__all__ = [
    "DEFAULT_MAX_MESSAGE",
    "BrokerUrl",
    "WEBSOCKETS",
    "ConsumerSocket",
    "FrameSocket",
    "HttpAnswer",
    "ProducerPool",
    "ProducerSocket",
    "Transport",
    "WebsocketTransport",
    "auth_headers",
    "check_subscription",
    "check_topic",
    "open_websocket",
]
