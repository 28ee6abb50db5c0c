"""A served module's check that its topic has no other subscription (calls would run twice).

After connecting, the module asks the broker's discovery API once how many subscriptions its
topic has. More than one means every request runs once per subscription, usually a replica
started with another ``subscription`` name by mistake: the module logs a warning. Brokers
without the discovery API (dasf-broker-django) are not asked twice and cause no message.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from typing import ParamSpec

from ..errors import DasfError
from ..transport import WEBSOCKETS, BrokerUrl, Transport

log = logging.getLogger(__name__)
P = ParamSpec("P")

#: the whole check (one HTTP GET) gives up after this many seconds
CHECK_TIMEOUT = 10.0


def subscriptions_of(
    broker: BrokerUrl, headers: dict[str, str], topic: str, transport: Transport = WEBSOCKETS
) -> int | None:
    """The number of subscriptions the broker reports for ``topic``; None if it cannot say."""
    url = f"{broker.http_base}/api/topics/{urllib.parse.quote(topic, safe='')}/"
    try:
        answer = transport.get(
            url, {"Accept": "application/json", **headers}, timeout=CHECK_TIMEOUT
        )
        data = json.loads(answer.body[: 1 << 20]) if answer.status == 200 else None
    except (DasfError, OSError, ValueError):
        return None
    count = data.get("subscriptions") if isinstance(data, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def warn_if_split(
    broker: BrokerUrl,
    headers: dict[str, str],
    topic: str,
    own: str,
    transport: Transport = WEBSOCKETS,
) -> None:
    """Log a warning if ``topic`` has another subscription besides ``own``."""
    count = subscriptions_of(broker, headers, topic, transport)
    if count is not None and count > 1:
        log.warning(
            "topic %r has %d subscriptions on the broker: every request will run once per "
            "subscription; replicas that should share the calls must all use subscription "
            "%r (this one's)",
            topic,
            count,
            own,
        )


def _in_daemon_thread(check: Callable[P, None], name: str) -> Callable[P, None]:
    """``check`` started in a daemon thread called ``name``: the caller never waits for it."""

    def start(*args: P.args, **kwargs: P.kwargs) -> None:
        threading.Thread(target=check, args=args, kwargs=kwargs, name=name, daemon=True).start()

    return start


#: :func:`warn_if_split` in a daemon thread (serving never waits for it)
check_in_background = _in_daemon_thread(warn_if_split, "dasf-subscription-check")
