"""Which messages on a response topic may touch a call: verified replies only.

Anyone who can publish to a caller's response topic (anyone on an open broker; a fellow
consumer of the module's topic, who sees the response topic and requestContext) can inject
messages there. For a *sealed* call only replies that open under the request's reply key
may change its state or reset its deadline; the rest are dropped and counted. The one
unsealed message accepted is an error *response*: a module that cannot open a request has
no key to seal its refusal with (an injected one can end the call early, which a broker
could do anyway by dropping the reply; it can never make the call wait longer or succeed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..protocol import MessageType, Prop
from ..protocol.envelope import Envelope
from ..security import E2E_PROPERTY

if TYPE_CHECKING:
    from .calls import CallState

log = logging.getLogger(__name__)

#: at most one warning about dropped messages per response topic in this many seconds
WARN_INTERVAL = 10.0


class ReplyGuard:
    """Screens the messages of one response topic; counts what it drops.

    Pure: the caller passes the time and serialises the calls (a session does both).
    """

    def __init__(self, response_topic: str) -> None:
        self.response_topic = response_topic
        #: messages dropped because they did not verify (injected, or corrupted)
        self.dropped = 0
        self._last_warning = float("-inf")

    @staticmethod
    def sealed(call: CallState) -> bool:
        return call.opener is not None and call.opener.sealed

    def admits(self, call: CallState, envelope: Envelope, now: float) -> bool:
        """Whether ``envelope`` may be processed for ``call`` (before it is verified).

        Plain calls admit everything (nothing can be verified). Sealed calls admit sealed
        messages (opened, hence verified, after reassembly) and unsealed error responses.
        """
        if not self.sealed(call):
            return True
        props = envelope.properties
        if E2E_PROPERTY in props:
            return True
        is_error = (
            props.get(Prop.MESSAGE_TYPE) == MessageType.RESPONSE.value
            and props.get(Prop.STATUS) == "error"
        )
        if is_error:
            return True
        self.drop(call, f"an unsealed {props.get(Prop.MESSAGE_TYPE)} message", now)
        return False

    def drop(self, call: CallState, what: str, now: float) -> None:
        """Count (and now and then log) a message that did not verify for ``call``."""
        self.dropped += 1
        if now - self._last_warning >= WARN_INTERVAL:
            self._last_warning = now
            log.warning(
                "dropped %s for the sealed %s on %s: it does not verify under the request's "
                "key (injected by the broker or another party; %d dropped so far)",
                what,
                call.what,
                self.response_topic,
                self.dropped,
            )
