"""How much memory incomplete fragmented messages may hold, in modules and in clients.

Fragments arrive before anything about their sender is checked, so these bounds are what
an unauthenticated sender can pin. The defaults fit a 2 GB kernel (docs/delivery-semantics.md,
"Memory bounds"). The environment variables that change them (``DASF_MODULE_FRAGMENTS_*``,
``DASF_CLIENT_FRAGMENTS_*``) are read at the edges: backend/config.py, peer_config.py.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
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
    #: seconds between two log lines about drops (None: the process-wide default, 10 s)
    log_interval: float | None = None

    def assembler(self, sender: Callable[[Hashable], Hashable]) -> FragmentAssembler:
        """An assembler with these bounds; ``sender(key)`` names who sent a payload."""
        return FragmentAssembler(
            max_payload=self.max_payload,
            max_total=self.max_total,
            max_per_sender=self.max_per_sender,
            sender=sender,
            log_interval=self.log_interval,
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
