"""Names and bookkeeping of subscriptions: (topic, subscription name) pairs."""

from __future__ import annotations

import hashlib
import re

from ..protocol.names import SUBSCRIPTION_MAX_LENGTH, subscription_name_error

__all__ = [
    "SHARED_BACKEND_SUBSCRIPTION",
    "SUBSCRIPTION_MAX_LENGTH",
    "LocalSubscriptions",
    "shared_subscription",
    "subscription_key",
    "subscription_name_error",
]

#: the subscription replicas of a backend module share unless told otherwise
SHARED_BACKEND_SUBSCRIPTION = "backend-module"
#: demessaging names its backend's subscription by the start time, to the second
_REFERENCE_BACKEND = re.compile(r"^backend-module-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def shared_subscription(name: str) -> str:
    """The subscription a consumer joins: a reference backend's timestamped name → the shared one.

    Without this, two demessaging replicas share the calls if started in the same second and
    both run every call otherwise; with it, they share like ours do.
    """
    return SHARED_BACKEND_SUBSCRIPTION if _REFERENCE_BACKEND.match(name) else name


def subscription_key(topic: str, subscription: str) -> str:
    """A short, fixed-length key of one (topic, subscription) queue."""
    digest = hashlib.sha256(f"{topic}\0{subscription}".encode()).hexdigest()[:32]
    return f"q.{digest}"


class LocalSubscriptions:
    """Counts of this process's consumer sockets per (topic, subscription)."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    def add(self, topic: str, subscription: str) -> int:
        """Register one consumer socket; return how many this subscription now has here."""
        subs = self._counts.setdefault(topic, {})
        subs[subscription] = subs.get(subscription, 0) + 1
        return subs[subscription]

    def remove(self, topic: str, subscription: str) -> int:
        """Unregister one consumer socket; return how many remain here."""
        subs = self._counts.get(topic, {})
        left = subs.get(subscription, 0) - 1
        if left > 0:
            subs[subscription] = left
            return left
        subs.pop(subscription, None)
        if not subs:
            self._counts.pop(topic, None)
        return 0

    def count(self, topic: str, subscription: str) -> int:
        """How many consumer sockets ``subscription`` of ``topic`` has here."""
        return self._counts.get(topic, {}).get(subscription, 0)

    def counts(self, topic: str) -> dict[str, int]:
        """Consumer sockets per subscription of ``topic`` here (a copy; safe from threads)."""
        return dict(self._counts.get(topic, {}))

    def of_topic(self, topic: str) -> list[str]:
        return list(self._counts.get(topic, ()))

    def pairs(self) -> list[tuple[str, str]]:
        return [(t, s) for t, subs in self._counts.items() for s in subs]

    def topics(self) -> list[str]:
        return list(self._counts)
