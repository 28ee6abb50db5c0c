"""Where a backend module answers probes: the broker's status topic and its callers' topics.

Every client names its response topic ``<module topic>_<random suffix>`` (ours, the
reference's and the TypeScript client's; ours cut the module topic at 183 characters), and
the broker's probes ask for ``status-ping``. A ``ping``/``info``/``api_info`` on the module's
topic that names any other ``response_topic`` was not sent by a caller of this module:
answering it would let anyone who can publish there make the module write into a topic of
their choice (another module's request topic, another caller's response topic) with the
module's credentials, for free. Requests are answered where they ask, as in the reference
protocol: they pass the module's encryption and allow-list checks first.
"""

from __future__ import annotations

import logging
import threading
import time

from ..protocol import STATUS_PING_TOPIC
from ..protocol.names import derives_from

log = logging.getLogger(__name__)

#: at most one warning per this many seconds about refused reply topics
WARN_INTERVAL = 10.0


def may_reply_to(module_topic: str, response_topic: str) -> bool:
    """Whether ``response_topic`` is the status topic or a response topic of ``module_topic``."""
    return response_topic == STATUS_PING_TOPIC or derives_from(response_topic, module_topic)


class RefusedReplyTopics:
    """Counts messages refused for their ``response_topic``; logs now and then."""

    def __init__(self, module_topic: str) -> None:
        self.module_topic = module_topic
        self.count = 0
        self._lock = threading.Lock()
        self._last_warning = float("-inf")

    def record(self, kind: object, response_topic: str) -> None:
        with self._lock:
            self.count += 1
            now = time.monotonic()
            warn = now - self._last_warning >= WARN_INTERVAL
            if warn:
                self._last_warning = now
            count = self.count
        if warn:
            log.warning(
                "ignoring a %s message on %s that asks for a reply on %r: not the status topic "
                "nor a response topic of this module (%d refused so far)",
                kind,
                self.module_topic,
                response_topic[:200],
                count,
            )
