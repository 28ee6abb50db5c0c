"""Websocket connections to a DASF broker (blocking, thread-safe adapters)."""

from .sockets import (
    DEFAULT_MAX_MESSAGE,
    ConsumerSocket,
    ProducerPool,
    ProducerSocket,
    open_websocket,
)
from .urls import BrokerUrl, auth_headers, check_subscription, check_topic

__all__ = [
    "DEFAULT_MAX_MESSAGE",
    "BrokerUrl",
    "ConsumerSocket",
    "ProducerPool",
    "ProducerSocket",
    "auth_headers",
    "check_subscription",
    "check_topic",
    "open_websocket",
]
