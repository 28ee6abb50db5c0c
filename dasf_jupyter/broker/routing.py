"""Websocket routes of the broker (trailing slashes optional)."""

from __future__ import annotations

from django.urls import re_path

from .consumers import NotFoundSocket, ProducerSocket, StatusPingSocket, SubscriberSocket

_SEG = r"[^/]+"

websocket_urlpatterns = [
    re_path(r"^ws/status-ping/?$", StatusPingSocket.as_asgi()),
    # Pulsar-style aliases; the last path segment before the subscription is the topic
    re_path(
        rf"^ws/v2/producer/{_SEG}/{_SEG}/{_SEG}/(?P<topic>{_SEG})/?$", ProducerSocket.as_asgi()
    ),
    re_path(
        rf"^ws/v2/consumer/{_SEG}/{_SEG}/{_SEG}/(?P<topic>{_SEG})/(?P<subscription>{_SEG})/?$",
        SubscriberSocket.as_asgi(),
    ),
    re_path(rf"^ws/(?P<topic>{_SEG})/?$", ProducerSocket.as_asgi()),
    re_path(rf"^ws/(?P<topic>{_SEG})/(?P<subscription>{_SEG})/?$", SubscriberSocket.as_asgi()),
    re_path(r"", NotFoundSocket.as_asgi()),
]
