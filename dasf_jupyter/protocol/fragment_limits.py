"""How much memory incomplete fragmented messages may hold, in modules and in clients.

Fragments arrive before anything about their sender is checked, so these bounds are what
an unauthenticated sender can pin. The defaults fit a 2 GB kernel (docs/delivery-semantics.md,
"Memory bounds"); each can be changed through the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from .fragments import FragmentAssembler

MiB = 1 << 20


@dataclass(frozen=True)
class FragmentLimits:
    """Bounds of one :class:`FragmentAssembler` (characters of base64, or raw bytes)."""

    #: one reassembled payload (a request in a module, a reply in a client)
    max_payload: int
    #: the incomplete payloads of one sender together (its newest may reach max_payload)
    max_per_sender: int
    #: all incomplete payloads together
    max_total: int
    #: an incomplete payload whose rest did not come within this many seconds is dropped
    timeout: float

    def assembler(self, sender: Callable[[Hashable], Hashable]) -> FragmentAssembler:
        """An assembler with these bounds; ``sender(key)`` names who sent a payload."""
        return FragmentAssembler(
            max_payload=self.max_payload,
            max_total=self.max_total,
            max_per_sender=self.max_per_sender,
            sender=sender,
        )


#: a module: requests of up to 512 MiB; a sender (response topic) pins at most 128 MiB
#: beyond the request it is sending, all senders together 512 MiB, for at most 300 s
MODULE_LIMITS = FragmentLimits(
    max_payload=512 * MiB, max_per_sender=128 * MiB, max_total=512 * MiB, timeout=300.0
)
#: a client: replies of up to 1 GiB (``connect(max_payload=)``); a client only collects
#: fragments of its own pending calls, each call counts as one sender
CLIENT_LIMITS = FragmentLimits(
    max_payload=1 << 30, max_per_sender=1 << 30, max_total=1 << 30, timeout=300.0
)

_ENV = {
    "max_payload": "MAX_PAYLOAD",
    "max_per_sender": "PER_SENDER",
    "max_total": "TOTAL",
    "timeout": "TIMEOUT",
}


def limits_from_env(
    defaults: FragmentLimits, prefix: str, env: Mapping[str, str] | None = None
) -> FragmentLimits:
    """``defaults`` with ``<prefix>_MAX_PAYLOAD``, ``_PER_SENDER``, ``_TOTAL``, ``_TIMEOUT``
    taken from the environment where set (e.g. ``DASF_MODULE_FRAGMENTS_TOTAL=268435456``).
    """
    env = os.environ if env is None else env
    values: dict[str, float] = {}
    for name, suffix in _ENV.items():
        key = f"{prefix}_{suffix}"
        raw = env.get(key, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {raw!r}") from None
        if not value > 0:
            raise ValueError(f"{key} must be positive, got {raw!r}")
        values[name] = value if name == "timeout" else int(value)
    if not values:
        return defaults
    return FragmentLimits(**{**defaults.__dict__, **values})


def module_limits() -> FragmentLimits:
    """The module's bounds: :data:`MODULE_LIMITS`, or ``DASF_MODULE_FRAGMENTS_*``."""
    return limits_from_env(MODULE_LIMITS, "DASF_MODULE_FRAGMENTS")


def client_limits(max_payload: int | None = None) -> FragmentLimits:
    """The client's bounds: :data:`CLIENT_LIMITS`, or ``DASF_CLIENT_FRAGMENTS_*``.

    ``max_payload`` (``connect(max_payload=)``) overrides the per-reply limit.
    """
    limits = limits_from_env(CLIENT_LIMITS, "DASF_CLIENT_FRAGMENTS")
    if max_payload is None:
        return limits
    return FragmentLimits(max_payload, limits.max_per_sender, limits.max_total, limits.timeout)
