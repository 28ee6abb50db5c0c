"""Sealing the replies of sealed requests, and which requests the security policy sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..protocol import Envelope
from ..security import E2E_PROPERTY, RequestSecurity, SecurityMode, SecurityPolicy
from ..security.signatures import is_signed


@dataclass(frozen=True)
class Outgoing:
    """An envelope to publish on ``topic``."""

    topic: str
    envelope: Envelope


#: how a running job publishes progress and log messages while it works
Send = Callable[[Outgoing], None]


def concerns(policy: SecurityPolicy, props: dict[str, Any]) -> bool:
    """False for a plain, unsigned request to a plain module (answered as the reference)."""
    if policy.mode is not SecurityMode.PLAIN or policy.require_auth:
        return True
    return E2E_PROPERTY in props or is_signed(props)


def sealed(outgoing: Outgoing, sec: RequestSecurity) -> Outgoing:
    """``outgoing`` with its payload sealed to the request's reply key."""
    envelope = outgoing.envelope
    payload, props = sec.outbound(envelope.payload, dict(envelope.properties))
    return Outgoing(outgoing.topic, Envelope(payload, props, context=envelope.context))


def sealing(send: Send, sec: RequestSecurity) -> Send:
    """A ``send`` that seals each progress/log message of a sealed request."""

    def seal_and_send(outgoing: Outgoing) -> None:
        send(sealed(outgoing, sec))

    return seal_and_send
