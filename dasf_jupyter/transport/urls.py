"""Websocket URLs of topics on a broker: DASF base URLs and Pulsar v2 URLs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from ..protocol.names import check_subscription, check_topic

__all__ = ["BrokerUrl", "auth_headers", "check_subscription", "check_topic"]


@dataclass(frozen=True)
class BrokerUrl:
    """Where a broker listens, and how topic URLs are formed.

    * DASF style (our broker, dasf-broker-django): ``ws://host:port/ws`` →
      ``…/ws/<topic>`` (produce) and ``…/ws/<topic>/<subscription>`` (consume).
    * Pulsar style: ``ws://host:port/ws/v2/<persistence>/<tenant>/<namespace>`` →
      ``…/ws/v2/producer/<persistence>/<tenant>/<namespace>/<topic>`` and
      ``…/ws/v2/consumer/…/<topic>/<subscription>``.
    """

    scheme: str
    netloc: str
    path: str
    pulsar: tuple[str, str, str] | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url.strip())
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError(f"not a websocket URL: {url!r} (expected ws://host:port/ws)")
        segments = [s for s in parts.path.split("/") if s]
        if "v2" in segments:
            at = segments.index("v2")
            rest = segments[at + 1 :]
            if rest[:1] in (["producer"], ["consumer"]):
                rest = rest[1:]
            defaults = ["non-persistent", "public", "default"]
            persistence, tenant, namespace = (rest + defaults[len(rest) :])[:3]
            base = "/" + "/".join(segments[: at + 1])
            return cls(scheme, parts.netloc, base, (persistence, tenant, namespace))
        return cls(scheme, parts.netloc, "/" + "/".join(segments) if segments else "")

    @property
    def base(self) -> str:
        return urlunsplit((self.scheme, self.netloc, self.path, "", ""))

    @property
    def http_base(self) -> str:
        """``http(s)://host:port`` — where the broker's HTTP API lives."""
        return urlunsplit(("https" if self.scheme == "wss" else "http", self.netloc, "", "", ""))

    def producer(self, topic: str) -> str:
        check_topic(topic)
        if self.pulsar:
            return f"{self.base}/producer/{'/'.join(self.pulsar)}/{topic}"
        return f"{self.base}/{topic}"

    def consumer(self, topic: str, subscription: str) -> str:
        check_topic(topic)
        check_subscription(subscription)
        sub = quote(subscription, safe="-_.:")  # "+" and non-ASCII: %-escaped
        if self.pulsar:
            return f"{self.base}/consumer/{'/'.join(self.pulsar)}/{topic}/{sub}"
        return f"{self.base}/{topic}/{sub}"

    def __str__(self) -> str:
        return self.base


def auth_headers(token: str | None) -> dict[str, str]:
    """HTTP headers that carry a broker token (``Authorization: Token <key>``)."""
    return {"Authorization": f"Token {token}"} if token else {}
