"""Minimal DASF peers over real websockets that use the security hooks as documented.

``SecureResponder`` is the backend-side wiring (inbound → run → outbound → fragment) and
``SecureRequester`` the client-side wiring (prepare → publish → reassemble → open), so the
hooks are exercised through real brokers before backend/ and client/ adopt them.
"""

from __future__ import annotations

import json
import random
import string
import threading
from collections.abc import Callable
from typing import Any

from dasf_jupyter.errors import ConnectionLost, ProtocolError, RemoteError
from dasf_jupyter.protocol import (
    Envelope,
    FragmentAssembler,
    decode_json_payload,
    decode_text_payload,
    encode_json_payload,
    encode_text_payload,
    fragment_index,
    split_payload,
)
from dasf_jupyter.security import (
    Caller,
    ClientSecurity,
    SecurityError,
    SecurityPolicy,
    caller_parameters,
)
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerPool, ProducerSocket


def suffix() -> str:
    return "".join(random.choice(string.ascii_letters) for _ in range(8))


class SecureResponder:
    """Serves plain functions on ``topic`` behind a :class:`SecurityPolicy` (one thread)."""

    def __init__(
        self,
        broker_url: str,
        topic: str,
        policy: SecurityPolicy,
        functions: dict[str, Callable[..., Any]],
        fragment_size: int = 512_000,
    ) -> None:
        self.url = BrokerUrl.parse(broker_url)
        self.topic = topic
        self.policy = policy
        self.functions = functions
        self.fragment_size = fragment_size
        self.errors: list[str] = []
        self._consumer = ConsumerSocket(self.url.consumer(topic, "backend-module-" + suffix()))
        self._producers = ProducerPool(self.url.producer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"responder-{topic}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                envelope = self._consumer.receive(timeout=0.2)
            except TimeoutError:
                continue
            except ProtocolError:
                continue
            except ConnectionLost:
                return
            if envelope.response_topic and envelope.request_context:
                self._handle(envelope)

    def _publish(self, to: str, payload: str, props: dict[str, Any]) -> None:
        props = {**props, "source_topic": self.topic}
        chunks = split_payload(payload, self.fragment_size)
        sock = self._producers.get(to)
        for index, chunk in enumerate(chunks):
            extra = {"fragment": index, "num_fragments": len(chunks)} if len(chunks) > 1 else {}
            ctx = props["requestContext"]
            sock.publish(Envelope(chunk, {**props, **extra}, context=ctx), timeout=10)

    def _handle(self, envelope: Envelope) -> None:
        props, to = envelope.properties, envelope.response_topic
        base = {"requestContext": envelope.request_context}
        kind = envelope.message_type
        if kind == "ping":
            self._publish(to, "", {**base, "messageType": "pong"})
            return
        if kind == "api_info":
            info = json.dumps({"functions": [], "classes": [], **self.policy.api_info_extension()})
            self._publish(to, "", {**base, "messageType": "response", "api_info": info})
            return
        if kind != "request":
            return
        try:
            payload, security = self.policy.inbound(props, envelope.as_text().payload, self.topic)
        except (SecurityError, ProtocolError) as exc:
            # refused before a reply key is known: the refusal goes back unsealed
            self.errors.append(type(exc).__name__)
            error = {**base, "messageType": "response", "status": "error"}
            error["dasf_error_type"] = type(exc).__name__
            self._publish(to, encode_text_payload(str(exc)), error)
            return
        request = decode_json_payload(payload)
        func = self.functions[request.pop("func_name")]
        for name in caller_parameters(func):
            request[name] = security.caller

        def send(value: Any, kind: str, status: str) -> None:
            props = {**base, "messageType": kind, "status": status}
            out, props = security.outbound(encode_json_payload(value), props)
            self._publish(to, out, props)

        send({"status": "running", "step_message": "started"}, "progress", "running")
        send(func(**request), "response", "success")

    def stop(self) -> None:
        self._stop.set()
        self._consumer.close()
        self._thread.join(timeout=5)
        self._producers.close()


class SecureRequester:
    """Calls a module through :class:`ClientSecurity` on a private response topic."""

    def __init__(self, broker_url: str, topic: str, security: ClientSecurity) -> None:
        url = BrokerUrl.parse(broker_url)
        self.topic = topic
        self.security = security
        self.response_topic = f"{topic}_{suffix()}"
        sub = "python-backend-" + suffix()
        self._consumer = ConsumerSocket(url.consumer(self.response_topic, sub))
        self._producer = ProducerSocket(url.producer(topic), topic=topic)
        self._context = 0
        self.progress: list[Any] = []

    def _send(self, message_type: str, payload: str, props: dict[str, Any]) -> str:
        self._context += 1
        ctx = str(self._context)
        props = {
            **props,
            "messageType": message_type,
            "requestContext": ctx,
            "response_topic": self.response_topic,
        }
        self.last_sent = Envelope(payload, props, context=ctx)
        self._producer.publish(self.last_sent, timeout=10)
        return ctx

    def resend(self, payload: str, properties: dict[str, Any], timeout: float = 10.0) -> Envelope:
        """Publish a (possibly forged) request verbatim and return the module's reply."""
        self._producer.publish(Envelope(payload, properties), timeout=10)
        return self._receive(str(properties["requestContext"]), timeout)

    def api_info(self, timeout: float = 10.0) -> dict[str, Any]:
        ctx = self._send("api_info", "", {})
        reply = self._receive(ctx, timeout)
        return json.loads(reply.properties["api_info"])

    def _receive(self, ctx: str, timeout: float) -> Envelope:
        while True:
            envelope = self._consumer.receive(timeout=timeout)
            if envelope.request_context == ctx:
                return envelope

    def call(self, func_name: str, timeout: float = 10.0, **kwargs: Any) -> Any:
        """Seal/sign, send, reassemble and open the reply; RemoteError on refusal."""
        request = encode_json_payload({"func_name": func_name, **kwargs})
        api_info = self.api_info(timeout)
        ctx = str(self._context + 1)
        payload, props, opener = self.security.prepare(api_info, self.topic, ctx, request, {})
        sent = self._send("request", payload, props)
        assert sent == ctx
        assembler = FragmentAssembler()
        while True:
            envelope = self._receive(ctx, timeout)
            whole = envelope.as_text().payload
            index = fragment_index(envelope.properties)
            if index is not None:
                whole = assembler.add(ctx, index[0], index[1], whole)
                if whole is None:
                    continue
            props = {
                k: v
                for k, v in envelope.properties.items()
                if k not in ("fragment", "num_fragments")
            }
            plain = opener.open(whole, props)
            if envelope.message_type == "progress":
                self.progress.append(decode_json_payload(plain))
                continue
            if props.get("status") == "error":
                raise RemoteError(
                    decode_text_payload(plain), exc_type=props.get("dasf_error_type")
                )
            return decode_json_payload(plain)

    def close(self) -> None:
        self._consumer.close()
        self._producer.close()


def whoami(caller: Caller) -> str:
    """Example function that receives the verified caller."""
    return f"hello {caller.name}"


def add(a: int, b: int) -> int:
    return a + b


def echo(text: str) -> str:
    return text


FUNCTIONS = {"add": add, "echo": echo, "whoami": whoami}
