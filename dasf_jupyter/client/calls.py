"""One call as a client session sees it: who it is, when it times out, how replies open."""

from __future__ import annotations

from ..errors import CallTimeout, DasfError, ModuleNotServed
from ..security import ReplyOpener
from .hints import not_served_hint


def request_ttl(remaining: float) -> float:
    """The ``dasf_ttl`` of a request: how long the broker may keep it undelivered.

    The caller gives up after ``remaining`` seconds; the broker counts from when it receives
    the request, so a margin (a tenth, at most 1 s) covers the transit.
    """
    return max(remaining - min(1.0, 0.1 * remaining), 0.001)


class CallState:
    """What a session knows of one call: who it is, its deadline and its reply key."""

    __slots__ = ("context", "deadline", "discovery", "opener", "timeout", "topic", "what")

    def __init__(
        self, context: str, topic: str, what: str, timeout: float, *, discovery: bool = False
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.context = context
        self.topic = topic
        #: how the call is named in messages, e.g. ``"add()"``
        self.what = what
        #: seconds without a sign of life after which the call times out
        self.timeout = timeout
        #: an ``api_info`` call: silence means "no module", not "stuck"
        self.discovery = discovery
        #: opens the sealed replies of a sealed request (set before the request is sent)
        self.opener: ReplyOpener | None = None
        #: when the call times out, on the caller's clock (set by ``send_request``)
        self.deadline = float("inf")

    def timeout_error(self) -> DasfError:
        """The error that says why nothing came."""
        if self.discovery:
            return ModuleNotServed(
                f"no backend module answered on topic {self.topic!r} within {self.timeout:g} s; "
                f"check the topic name, or {not_served_hint(self.topic)}"
            )
        return CallTimeout(
            f"no answer to {self.what} from topic {self.topic!r} within {self.timeout:g} s "
            "(and no progress or log message either); the module may be stuck, overloaded or "
            "gone — check that it runs, or pass a larger timeout="
        )
