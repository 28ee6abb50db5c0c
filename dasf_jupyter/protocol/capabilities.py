"""What our broker announces in its websocket handshake besides binary frames.

A reference broker (dasf-broker-django) uses consumer acks (``{"messageId": ...}``) to mark
stored messages delivered and as a sign of life, so peers ack every delivery by default. Our
broker delivers at most once and ignores consumer acks; it says so with
``x-dasf-consumer-acks: none``, and our peers then save one frame (a write in the peer, a read
and a wake-up in the broker) per delivery.
"""

from __future__ import annotations

from collections.abc import Mapping

#: handshake response header: which consumer acks the broker needs
CONSUMER_ACKS_HEADER = "x-dasf-consumer-acks"
#: value of :data:`CONSUMER_ACKS_HEADER`: the broker ignores consumer acks
NO_CONSUMER_ACKS = "none"


def broker_needs_acks(response_headers: Mapping[str, str]) -> bool:
    """False only when the broker announced that it ignores consumer acks."""
    return response_headers.get(CONSUMER_ACKS_HEADER) != NO_CONSUMER_ACKS
