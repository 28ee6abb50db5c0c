"""Listing the modules a broker knows, through its HTTP discovery API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import BrokerError, ConnectionLost, DasfError
from ..transport import WEBSOCKETS, Transport

TOPICS_PATH = "/api/topics/"


@dataclass(frozen=True)
class ModuleInfo:
    """One topic as the broker's discovery API describes it."""

    topic: str
    description: str | None = None
    online: bool | None = None
    api_info: dict[str, Any] | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: consumer sockets (replicas) on all broker processes; None if the broker does not say
    consumers: int | None = None
    #: distinct subscriptions: each request runs once per subscription
    subscriptions: int | None = None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ModuleInfo:
        topic = obj.get("topic") or obj.get("slug") or obj.get("name")
        if not isinstance(topic, str):
            raise BrokerError(f"the discovery API returned an entry without a topic: {obj!r}")
        online = obj.get("online", obj.get("is_online"))
        description = obj.get("description")
        api_info = obj.get("api_info")
        return cls(
            topic=topic,
            description=description if isinstance(description, str) else None,
            online=online if isinstance(online, bool) else None,
            api_info=api_info if isinstance(api_info, dict) else None,
            raw=obj,
            consumers=_count(obj.get("consumers")),
            subscriptions=_count(obj.get("subscriptions")),
        )


def _count(value: Any) -> int | None:
    """A non-negative count from a discovery answer, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_topic_list(data: Any) -> list[ModuleInfo]:
    """Entries of a discovery answer: a JSON list, or a paginated ``{"results": [...]}``."""
    if isinstance(data, dict):
        data = data.get("results", data.get("topics"))
    if not isinstance(data, list):
        raise BrokerError("the broker's discovery API did not answer with a list of topics")
    return [ModuleInfo.from_json(item) for item in data if isinstance(item, dict)]


def list_modules(
    http_base: str,
    headers: dict[str, str],
    timeout: float = 10.0,
    *,
    transport: Transport | None = None,
) -> list[ModuleInfo]:
    """GET ``<http_base>/api/topics/`` and parse it; clear errors for brokers without it."""
    url = http_base.rstrip("/") + TOPICS_PATH
    headers = {"Accept": "application/json", **headers}
    try:
        answer = (transport or WEBSOCKETS).get(url, headers, timeout=timeout)
    except ConnectionLost as exc:
        raise BrokerError(f"cannot reach the broker's discovery API at {url}: {exc}") from None
    if answer.status == 404:
        raise DasfError(
            f"the broker at {http_base} has no discovery API ({url} answered 404); "
            "brokers such as dasf-broker-django cannot list modules — ask for the topic "
            "name and use connect(...).module(topic)"
        )
    if answer.status in (401, 403):
        raise BrokerError(
            f"the broker refused to list modules (HTTP {answer.status}); pass a token that "
            "may view topics"
        )
    if not 200 <= answer.status < 300:
        raise BrokerError(f"listing modules failed: HTTP {answer.status} from {url}")
    try:
        data = json.loads(answer.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DasfError(
            f"{url} did not answer with JSON; this broker seems to have no discovery API"
        ) from None
    return parse_topic_list(data)
