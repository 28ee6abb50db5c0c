"""A tiny raw-websocket DASF peer for the harness: publish frames, read deliveries, verbatim.

Deliberately independent of ``dasf_jupyter`` so that the harness never tests our code with
our code. Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect

MAX_FRAME = 512 * 1024 * 1024


def random_suffix(length: int = 8) -> str:
    """Random ASCII letters, as demessaging uses for response topics."""
    return "".join(random.choice(string.ascii_letters) for _ in range(length))


def b64_json(value: Any) -> str:
    """Base64 of the UTF-8 JSON of ``value`` (a DASF request/result payload)."""
    return base64.b64encode(json.dumps(value).encode("utf-8")).decode("ascii")


def unb64(payload: str) -> bytes:
    """Decode a DASF payload to bytes."""
    return base64.b64decode(payload.encode("ascii"))


class RawTopicClient:
    """Producer socket on ``topic`` plus consumer socket on a private response topic."""

    def __init__(
        self,
        broker_url: str,
        topic: str,
        response_topic: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base = broker_url.rstrip("/")
        self.headers = dict(headers or {})  # e.g. {"Authorization": "Token <key>"}
        self.topic = topic
        self.response_topic = response_topic or f"{topic}_{random_suffix()}"
        self.producer: ClientConnection | None = None
        self.consumer: ClientConnection | None = None
        self._sockets = ExitStack()

    def open(self, timeout: float = 10.0) -> RawTopicClient:
        """Connect both sockets (the consumer first, so no reply can be missed)."""
        sub = "raw-harness-" + time.strftime("%Y-%m-%dT%H:%M:%S")
        consumer_url = f"{self.base}/{self.response_topic}/{sub}"
        producer_url = f"{self.base}/{self.topic}"
        with ExitStack() as stack:
            self.consumer = stack.enter_context(
                connect(
                    consumer_url,
                    open_timeout=timeout,
                    max_size=MAX_FRAME,
                    additional_headers=self.headers,
                )
            )
            self.producer = stack.enter_context(
                connect(
                    producer_url,
                    open_timeout=timeout,
                    max_size=MAX_FRAME,
                    additional_headers=self.headers,
                )
            )
            self._sockets = stack.pop_all()
        return self

    def close(self) -> None:
        """Close both sockets."""
        self._sockets.close()
        self.producer = self.consumer = None

    def __enter__(self) -> RawTopicClient:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def build(
        self, message_type: str, context: Any, payload: str = "", **extra_props: Any
    ) -> dict[str, Any]:
        """A publish frame the way demessaging's Python client shapes it."""
        props = {"response_topic": self.response_topic, "requestContext": context}
        props["messageType"] = message_type
        props.update(extra_props)
        return {"properties": props, "payload": payload, "context": context}

    def publish(self, frame: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Send ``frame`` on the producer socket and return the broker's ack."""
        assert self.producer is not None, "call open() first"
        self.producer.send(json.dumps(frame))
        return json.loads(self.producer.recv(timeout=timeout))

    def receive(self, timeout: float = 30.0, ack: bool = True) -> dict[str, Any]:
        """Next delivery on the response topic (acked like every DASF peer does)."""
        assert self.consumer is not None, "call open() first"
        delivery = json.loads(self.consumer.recv(timeout=timeout))
        if ack and "messageId" in delivery:
            self.consumer.send(json.dumps({"messageId": delivery["messageId"]}))
        return delivery


def wait_for_pong(
    broker_url: str,
    topic: str,
    timeout: float = 60.0,
    alive: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Ping ``topic`` once a second until its module answers with a pong; return the pong.

    ``alive`` (optional) is polled between pings; when it returns False we give up early,
    e.g. because the module's process has died.
    """
    deadline = time.monotonic() + timeout
    with RawTopicClient(broker_url, topic, f"{topic}_ping{random_suffix(6)}") as peer:
        context = 0
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise RuntimeError(f"module for topic {topic!r} stopped before answering a ping")
            context += 1
            peer.publish(peer.build("ping", context), timeout=10.0)
            try:
                while True:
                    reply = peer.receive(timeout=1.0)
                    if reply.get("properties", {}).get("messageType") == "pong":
                        return reply
            except TimeoutError:
                continue
    raise TimeoutError(f"no pong from topic {topic!r} within {timeout}s")
