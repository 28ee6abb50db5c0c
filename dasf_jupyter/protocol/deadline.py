"""The ``dasf_ttl`` property: how long a request may wait before it must not start any more.

Our clients set it to the time their call still waits for an answer, less a margin. Brokers
drop a request undelivered once ``dasf_ttl`` seconds passed since they received it; modules
skip one that waited longer than that in their own queue since they received it.
Reference peers ignore the property.
"""

from __future__ import annotations

import math
from typing import Any

from .messages import Prop

#: the longest ``dasf_ttl`` honoured (s); longer ones count as "no deadline"
MAX_TTL = 7 * 24 * 3600.0


def ttl_of(properties: dict[str, Any]) -> float | None:
    """The ``dasf_ttl`` of a request in seconds, None if absent or not a sane number."""
    raw = properties.get(Prop.TTL)
    if raw is None or isinstance(raw, bool):
        return None
    try:
        ttl = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(ttl) or ttl > MAX_TTL:
        return None
    return max(ttl, 0.0)
