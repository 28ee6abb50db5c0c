"""A tiny websocket server that speaks the DASF broker frames with scripted behaviour.

For what real brokers will not do on demand: refuse publishes, probe a client with ``ping``,
or act as a backend that checks how the client fragments a request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from dasf_jupyter.protocol import (
    Envelope,
    FragmentAssembler,
    decode_publish,
    encode_delivery,
    encode_json_payload,
    encode_publish_ack,
    fragment_index,
)

Backend = Callable[[Envelope], list[Envelope]]


class ScriptedBroker:
    """Routes publishes to consumers; ``ack_result`` and ``backend`` are the script."""

    def __init__(self, port: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws"
        self.ack_result = "ok"
        self.backend: Backend | None = None
        self.published: list[tuple[str, Envelope]] = []
        self._consumers: dict[str, list[ServerConnection]] = {}
        self._lock = threading.Lock()
        self._server = serve(
            self._handle, "127.0.0.1", port, max_size=None, process_request=self._subscribe
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _subscribe(self, conn: ServerConnection, request: Any) -> None:
        # during the handshake, like real brokers: a client may publish right after connecting
        parts = [p for p in request.path.split("/") if p][1:]  # drop "ws"
        if len(parts) == 2:
            with self._lock:
                self._consumers.setdefault(parts[0], []).append(conn)

    def _handle(self, conn: ServerConnection) -> None:
        parts = [p for p in conn.request.path.split("/") if p][1:]  # drop "ws"
        if len(parts) == 2:
            for _ in conn:  # consumer acks: nothing to do
                pass
            return
        topic = parts[0]
        try:
            for text in conn:
                envelope = decode_publish(text)
                with self._lock:
                    self.published.append((topic, envelope))
                conn.send(encode_publish_ack(self.ack_result, "m1", envelope.context))
                if self.ack_result == "ok" and self.backend is not None:
                    for reply in self.backend(envelope):
                        self.deliver(envelope.response_topic or "", reply)
        except ConnectionClosed:
            pass

    def consumers(self, topic: str) -> list[ServerConnection]:
        with self._lock:
            return list(self._consumers.get(topic, []))

    def deliver(self, topic: str, envelope: Envelope) -> None:
        for conn in self.consumers(topic):
            conn.send(encode_delivery(envelope))

    def close_consumers(self) -> None:
        with self._lock:
            conns = [c for cs in self._consumers.values() for c in cs]
        for conn in conns:
            conn.close()

    def __enter__(self) -> ScriptedBroker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


class EchoBackend:
    """Answers ``api_info`` (announcing request fragments) and echoes reassembled requests."""

    API_INFO = {
        "classes": [],
        "functions": [
            {
                "name": "echo",
                "rpc_schema": {
                    "type": "object",
                    "properties": {"func_name": {"const": "echo"}, "text": {"type": "string"}},
                    "required": ["func_name", "text"],
                },
                "return_schema": {"type": "object"},
            }
        ],
        "rpc_schema": {},
        "x-dasf-jupyter": {"request_fragments": True},
    }

    def __init__(self) -> None:
        self.assembler = FragmentAssembler()
        self.fragments_seen = 0

    def __call__(self, envelope: Envelope) -> list[Envelope]:
        props = envelope.properties
        base = {"requestContext": props["requestContext"], "messageType": "response"}
        if props.get("messageType") == "api_info":
            return [Envelope("", {**base, "api_info": json.dumps(self.API_INFO)})]
        payload = envelope.as_text().payload
        index = fragment_index(props)
        if index is not None:
            self.fragments_seen += 1
            payload = self.assembler.add(props["requestContext"], *index, payload)
            assert isinstance(payload, str | None)
            if payload is None:
                return []
        request = json.loads(Envelope(payload).payload_bytes())
        return [Envelope(encode_json_payload(request), {**base, "status": "success"})]


@contextmanager
def scripted_broker(port: int) -> Iterator[ScriptedBroker]:
    with ScriptedBroker(port) as broker:
        yield broker
