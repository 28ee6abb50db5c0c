"""What an in-memory broker knows of its topics, and its answer to ``GET /api/topics/``.

The same fields as our broker's discovery API (``broker/api.py``): a backend is online once
it answered the broker's ``ping`` probe on ``status-ping`` and until its last consumer
socket closes; ``api_info`` is its answer to the ``api_info`` probe.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..protocol import API_INFO_EXTENSION, STATUS_PING_TOPIC, MessageType, Prop
from ..transport.base import HttpAnswer

TOPICS_PATH = "/api/topics/"

#: consumer sockets per subscription name of a topic
Census = Callable[[str], dict[str, int]]


@dataclass
class TopicRecord:
    """One topic's probe history."""

    last_ping: datetime | None = None
    last_pong: datetime | None = None
    api_info: dict[str, Any] | None = None


class TopicRegistry:
    """Topics seen, which are response topics, and the backends' probe replies."""

    def __init__(self) -> None:
        self.records: dict[str, TopicRecord] = {}
        self.response_topics: set[str] = set()

    def seen(self, topic: str) -> None:
        if topic != STATUS_PING_TOPIC:
            self.records.setdefault(topic, TopicRecord())

    def is_response_topic(self, topic: str, census: Census) -> bool:
        """Named as a reply topic, or ``<served topic>_<suffix>`` (a client subscribes first)."""
        if topic in self.response_topics:
            return True
        record = self.records.get(topic)
        if record is not None and record.api_info is not None:
            return False  # a module's topic, whatever its name
        source, sep, _ = topic.rpartition("_")
        return bool(sep and source) and (bool(census(source)) or source in self.records)

    def pinged(self, topic: str) -> None:
        self.records.setdefault(topic, TopicRecord()).last_ping = _now()

    def record_reply(self, properties: dict[str, Any]) -> str | None:
        """Store a probe reply; return the refusal our broker would send, or None."""
        source = properties.get(Prop.SOURCE_TOPIC)
        if not isinstance(source, str) or not source:
            return "No source topic found."
        record = self.records.get(source)
        if record is None:
            return f"No source topic found: {source!r} does not exist"
        record.last_pong = _now()
        if properties.get(Prop.MESSAGE_TYPE) == MessageType.RESPONSE.value:
            api_info = _api_info_of(properties)
            if api_info is not None:
                record.api_info = api_info
        return None

    def offline(self, topic: str) -> None:
        """The last consumer of ``topic`` left."""
        record = self.records.get(topic)
        if record is not None:
            record.last_pong = None

    def answer(self, url: str, census: Census) -> HttpAnswer:
        """The answer to a GET of ``url`` on the broker's HTTP API."""
        parts = urlsplit(url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        if path == TOPICS_PATH:
            online = parse_qs(parts.query).get("online", [""])[0].lower() in ("1", "true", "yes")
            names = sorted(n for n in self.records if not self.is_response_topic(n, census))
            topics = [self._as_json(n, census) for n in names]
            return _json(200, [t for t in topics if t["online"] or not online])
        if path.startswith(TOPICS_PATH) and path.count("/") == 4:
            name = unquote(path[len(TOPICS_PATH) : -1])
            if name in self.records and not self.is_response_topic(name, census):
                return _json(200, self._as_json(name, census))
            return _json(404, {"detail": f"topic {name!r} not found"})
        return _json(404, {"detail": f"no API endpoint {parts.path!r}"})

    def _as_json(self, name: str, census: Census) -> dict[str, Any]:
        record = self.records[name]
        subs = census(name)
        info = record.api_info
        return {
            "name": name,
            "description": _description(info),
            "is_public": True,
            "online": record.last_pong is not None,
            "last_ping": _iso(record.last_ping),
            "last_pong": _iso(record.last_pong),
            "api_info": info,
            "functions": _member_names(info, "functions"),
            "classes": _member_names(info, "classes"),
            "consumers": sum(subs.values()),
            "subscriptions": len(subs),
        }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json(status: int, body: Any) -> HttpAnswer:
    return HttpAnswer(status, json.dumps(body).encode("utf-8"))


def _api_info_of(properties: dict[str, Any]) -> dict[str, Any] | None:
    raw = properties.get(Prop.API_INFO)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def _member_names(api_info: dict[str, Any] | None, key: str) -> list[str]:
    members = (api_info or {}).get(key)
    if not isinstance(members, list):
        return []
    return [m["name"] for m in members if isinstance(m, dict) and isinstance(m.get("name"), str)]


def _description(api_info: dict[str, Any] | None) -> str:
    extension = (api_info or {}).get(API_INFO_EXTENSION)
    description = extension.get("description") if isinstance(extension, dict) else None
    return description if isinstance(description, str) else ""
