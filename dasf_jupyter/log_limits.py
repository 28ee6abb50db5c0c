"""Warnings about bad input that an injector cannot turn into a log flood.

Whoever may publish to a topic can send malformed messages as fast as the broker takes
them. :class:`LimitedWarnings` logs the first one of each *reason* at once, then counts the
others and logs at most one summary line per reason and ``interval`` seconds, with the
number suppressed (``DASF_LOG_SUMMARY_INTERVAL``, read at the edges, changes the 10 s).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

#: seconds between two lines about the same reason
DEFAULT_INTERVAL = 10.0


@dataclass
class _Reason:
    last_logged: float
    suppressed: int = 0
    total: int = 1


class LimitedWarnings:
    """Rate-limited warnings, one stream per reason (a short fixed string)."""

    #: reasons tracked at once; the least recently logged one is forgotten beyond this
    MAX_REASONS = 64

    def __init__(self, logger: logging.Logger, interval: float = DEFAULT_INTERVAL) -> None:
        self.logger = logger
        self.interval = interval
        self._reasons: dict[str, _Reason] = {}
        self._lock = threading.Lock()

    def warn(self, reason: str, message: str, *args: object) -> None:
        """Log ``message % args`` now if ``reason`` was quiet for ``interval`` s, else count it."""
        now = time.monotonic()
        with self._lock:
            state = self._reasons.get(reason)
            if state is None:
                if len(self._reasons) >= self.MAX_REASONS:
                    self._flush_locked(now, force=True, only_oldest=True)
                self._reasons[reason] = _Reason(now)
                suppressed = 0
            elif now - state.last_logged >= self.interval:
                state.total += 1
                suppressed, state.suppressed, state.last_logged = state.suppressed, 0, now
            else:
                state.total += 1
                state.suppressed += 1
                return
        if suppressed:
            message += " (and %d more %s suppressed)"
            args = (*args, suppressed, reason)
        self.logger.warning(message, *args)

    def flush(self) -> None:
        """Log a summary for each reason whose suppressed warnings are ``interval`` s old."""
        with self._lock:
            self._flush_locked(time.monotonic())

    def suppressed(self, reason: str) -> int:
        """Warnings about ``reason`` counted but not yet reported."""
        with self._lock:
            state = self._reasons.get(reason)
            return state.suppressed if state is not None else 0

    def _flush_locked(self, now: float, force: bool = False, only_oldest: bool = False) -> None:
        reasons = sorted(self._reasons.items(), key=lambda item: item[1].last_logged)
        if only_oldest:
            reasons = reasons[:1]
        for reason, state in reasons:
            if state.suppressed and (force or now - state.last_logged >= self.interval):
                self.logger.warning(
                    "%d more %s suppressed in the last %.0f s (%d in all)",
                    state.suppressed,
                    reason,
                    now - state.last_logged,
                    state.total,
                )
                state.suppressed, state.last_logged = 0, now
            if only_oldest:
                del self._reasons[reason]
