"""Websocket endpoints of the broker (thin: the logic lives in publishing, hub, liveness)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from ..errors import ProtocolError
from ..protocol.binary import BINARY_FRAMES_HEADER, BINARY_FRAMES_VERSION, binary_to_text
from ..protocol.capabilities import CONSUMER_ACKS_HEADER, NO_CONSUMER_ACKS
from . import frames
from .auth import AuthRefused, authenticate_key, find_token_key
from .coalescing import COALESCE_LIMIT, DEFER
from .hub import Message, Receiver
from .inflight import route_of
from .models import hash_token_key, topic_name_error
from .permissions import TopicAccess
from .publishing import Publisher
from .runtime import get_runtime
from .subscriptions import shared_subscription, subscription_name_error

log = logging.getLogger(__name__)

#: close codes of a consumer that said goodbye (its running calls may still answer)
_CLEAN_CLOSE = frozenset({1000, 1001})
#: a liveness probe to a consumer that does not read is given up after this long
_PROBE_SEND_TIMEOUT = 10.0
_socket_tokens = itertools.count(1)
#: handshake header of binary frames (docs/binary-frames.md), as ASGI bytes
_BINARY_FRAMES = (BINARY_FRAMES_HEADER.encode("ascii"), BINARY_FRAMES_VERSION.encode("ascii"))
#: consumer acks are ignored (delivery is at most once): peers need not send them
_NO_ACKS = (CONSUMER_ACKS_HEADER.encode("ascii"), NO_CONSUMER_ACKS.encode("ascii"))


def wants_binary(scope: dict[str, Any]) -> bool:
    """True when the peer sent ``x-dasf-binary-frames: 1`` in its handshake request."""
    name, value = _BINARY_FRAMES
    return any(k.lower() == name and v.strip() == value for k, v in scope.get("headers", ()))


class _BrokerSocket(AsyncWebsocketConsumer):
    """Common handshake handling: authentication and refusals with a readable body."""

    # delivery goes through the hub, not through a channel per socket
    channel_layer_alias = "dasf-broker-no-layer"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Serve one socket: each ASGI event straight to its handler, in order.

        Channels' default wraps every receive in a new task and an ``asyncio.wait`` (to
        listen to a channel layer too, which the broker does not use): per frame, that
        cost more than the broker's own handling of it.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def dispatch(self, message: dict) -> None:
        """Call the handler; unlike Channels' default, no DB-connection cleanup per frame.

        That cleanup costs a thread hop per message; our DB calls go through
        ``database_sync_to_async``, which cleans up around each call itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    accepted = False

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        """Accept the handshake; every socket announces binary frames and no consumer acks."""
        await super().accept(subprotocol, [*(headers or ()), _BINARY_FRAMES, _NO_ACKS])
        self.accepted = True

    async def websocket_connect(self, message: dict) -> None:
        """Run :meth:`connect`; an unexpected failure refuses the handshake with a reason."""
        try:
            await self.connect()
        except Exception as exc:  # e.g. the database is unreachable
            log.exception("connecting %s failed", self.scope.get("path"))
            if self.accepted:
                await self.close(code=1011)
            else:
                await self.reject(503, f"broker error: {type(exc).__name__}; try again later")

    async def reject(self, status: int, reason: str) -> None:
        """Refuse the handshake with an HTTP status and ``reason`` as the body."""
        log.info("refused %s: %s", self.scope.get("path"), reason)
        if "websocket.http.response" in self.scope.get("extensions", {}):
            await self.base_send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await self.base_send(
                {"type": "websocket.http.response.body", "body": reason.encode("utf-8")}
            )
        else:  # servers without the extension: a plain 403
            await self.close()

    #: sha256 of the handshake's token (for the access watch), None without a token
    key_hash: str | None = None
    #: why the access watch closed this socket, "" while it is open
    revoked = ""

    async def authenticated_access(self) -> TopicAccess | None:
        try:
            key = find_token_key(
                self.scope.get("headers") or (), self.scope.get("query_string", b"")
            )
            user = await database_sync_to_async(authenticate_key)(key)
        except AuthRefused as exc:
            await self.reject(401, exc.reason)
            return None
        self.key_hash = hash_token_key(key) if key else None
        return TopicAccess(user)

    async def permitted_access(self, action: str, topic: str) -> TopicAccess | None:
        """The caller's access if it may ``action`` ("produce"/"consume") on ``topic``.

        Otherwise the handshake is refused (401 bad token, 403 no right) and None returned.
        """
        access = await self.authenticated_access()
        if access is None:
            return None
        check = access.check_produce if action == "produce" else access.check_consume
        refusal = await check(topic)
        if refusal:
            await self.reject(403, refusal)
            return None
        return access

    async def watch_access(self, access: TopicAccess, action: str | None, topic: str | None):
        """Have the runtime's access watch close this socket if its token or right is revoked."""
        runtime = await get_runtime()
        runtime.access_watch.add(self, access.user, self.key_hash, action, topic)

    def revoke(self, code: int, reason: str) -> None:
        """The token or right is gone: serve nothing more, close with ``code`` and ``reason``."""
        self.revoked = reason
        asyncio.get_running_loop().create_task(self._close_quietly(code, reason))

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.close(code=code, reason=reason)

    async def websocket_disconnect(self, message: dict) -> None:
        with contextlib.suppress(Exception):
            (await get_runtime()).access_watch.remove(self)
        await super().websocket_disconnect(message)

    async def checked_topic(self) -> str | None:
        topic = self.scope["url_route"]["kwargs"]["topic"]
        error = topic_name_error(topic)
        if error:
            await self.reject(400, error)
            return None
        return topic


class ProducerSocket(_BrokerSocket):
    """``/ws/<topic>``: publish to a topic; every frame is answered with an ack."""

    publisher: Publisher | None = None

    async def connect(self) -> None:
        topic = await self.checked_topic()
        if not topic:
            return
        access = await self.permitted_access("produce", topic)
        if access is None:
            return
        runtime = await get_runtime()
        self.publisher = Publisher(topic, runtime, access)
        await self.accept()
        await self.watch_access(access, "produce", topic)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.publisher is None:
            return
        text = text_data if text_data is not None else bytes_data or b""
        if self.revoked:  # the close frame is on its way
            ack = frames.ack_text(self.revoked, None, frames.context_of(text), None)
            await self.send(text_data=ack)
            return
        try:
            ack = await self.publisher.publish(text)
        except Exception as exc:  # DB or Redis trouble: tell the sender, keep the socket
            log.exception("publishing to %s failed", self.publisher.topic)
            ack = frames.ack_text(
                f"broker error: the message was not delivered ({type(exc).__name__})",
                None,
                frames.context_of(text),
                None,
            )
        # a small message's ack is deferred: the delivery it woke goes first and the acks of
        # a burst leave in one write (broker/coalescing.py). A large one's is sent at once:
        # behind the write of a large delivery it halved the rate of 50 MB transfers
        small = len(text) < COALESCE_LIMIT
        await self.base_send({"type": "websocket.send", "text": ack, DEFER: small})


class StatusPingSocket(_BrokerSocket):
    """``/ws/status-ping``: where backends answer the broker's ``ping``/``api_info`` probes."""

    access: TopicAccess | None = None

    async def connect(self) -> None:
        self.access = await self.authenticated_access()
        if self.access is not None:
            await self.accept()
            await self.watch_access(self.access, None, None)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        text = text_data if text_data is not None else bytes_data or b""
        try:
            frame = frames.parse_any_publish(text)  # of a binary reply: its header
        except ProtocolError as exc:
            await self.send(text_data=frames.ack_text(str(exc), None, frames.context_of(text), 0))
            return
        runtime = await get_runtime()
        assert self.access is not None  # messages come only once connect() accepted
        try:
            refusal = await runtime.liveness.record_reply(
                self.access.user, frames.properties_of(frame)
            )
        except Exception as exc:
            log.exception("recording a probe reply failed")
            refusal = f"broker error: the reply was not recorded ({type(exc).__name__})"
        message_id = frame.get("messageId") or frames.new_message_id()
        await self.send(
            text_data=frames.ack_text(refusal or "ok", message_id, frame.get("context"), 0)
        )


class SubscriberSocket(_BrokerSocket):
    """``/ws/<topic>/<subscription>``: receive the messages of one subscription."""

    receiver: Receiver | None = None
    pump: asyncio.Task | None = None
    closing = False
    close_reason = ""
    #: the consumer asked for binary deliveries; others get binary publishes as text
    binary = False

    async def connect(self) -> None:
        topic = await self.checked_topic()
        if not topic:
            return
        self.topic = topic
        self.subscription = self.scope["url_route"]["kwargs"]["subscription"]
        error = subscription_name_error(self.subscription)
        if error:
            await self.reject(400, error)
            return
        if settings.DASF_SHARE_REFERENCE_REPLICAS:
            self.subscription = shared_subscription(self.subscription)
        access = await self.permitted_access("consume", topic)
        if access is None:
            return
        self.runtime = runtime = await get_runtime()
        self.token = next(_socket_tokens)
        self.binary = wants_binary(self.scope)
        # attach before accepting: once the client sees the handshake, nothing is missed
        self.receiver = await runtime.hub.attach(topic, self.subscription)
        self.receiver.on_overflow = self._overflowed
        await runtime.census.attached(topic, self.subscription)
        await self.accept()
        self.pump = asyncio.create_task(self._pump(self.receiver))
        await runtime.liveness.consumer_connected(topic, id(self), self._send_text)
        await self.watch_access(access, "consume", topic)

    async def _send_text(self, text: str) -> None:
        # a consumer that stopped reading must not stall the probes of all the others
        await asyncio.wait_for(self.send(text_data=text), _PROBE_SEND_TIMEOUT)

    def _overflowed(self, reason: str) -> None:
        """The hub cut this subscription off: stop delivering and close with the reason."""
        self._cut_off(1008, reason[:120])

    def revoke(self, code: int, reason: str) -> None:
        """The token or right is gone: stop delivering at once, close with code and reason."""
        self.revoked = reason
        self._cut_off(code, reason)

    def _cut_off(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        if self.pump is not None:
            self.pump.cancel()
        # the close frame queues behind unread data; it is sent when (if) the peer reads
        asyncio.get_running_loop().create_task(self._close_quietly(code, reason))

    async def _pump(self, receiver: Receiver) -> None:
        """Move messages from the subscription queue to this socket until it closes."""
        while not self.closing:
            try:
                text = await receiver.get()
            except Exception:  # e.g. Redis went away: close, so the client reconnects
                log.exception("receiving from %s/%s failed", self.topic, self.subscription)
                with contextlib.suppress(Exception):
                    await self.close(code=1011, reason="broker lost its message queue")
                return
            if text is None:
                continue
            if self.closing:
                await receiver.requeue(text)
                return
            try:
                sent = await self._send_delivery(text, receiver.has_next())
            except asyncio.CancelledError:  # stopped while blocked on a full socket buffer
                await asyncio.shield(receiver.requeue(text))
                raise
            except Exception:  # the socket closed under us: let another consumer have it
                await receiver.requeue(text)
                return
            route = route_of(text) if sent else None
            if route is not None:  # remember it, to answer it if this consumer goes away
                try:
                    await self.runtime.inflight.delivered(self.token, self.topic, route)
                except Exception:  # Redis trouble: the caller's own timeout still applies
                    log.exception("recording a delivery on %s failed", self.topic)

    async def _send_delivery(self, message: Message, more: bool = False) -> bool:
        """Send one delivery as text or binary, as this consumer asked; False if dropped.

        ``more``: another delivery is already queued, so this one may wait for its write.
        """
        event: dict[str, Any] = {"type": "websocket.send", DEFER: more}
        if isinstance(message, str):
            event["text"] = message
        elif self.binary:
            event["bytes"] = message
        else:
            try:
                event["text"] = binary_to_text(message)
            except ProtocolError:  # cannot happen for frames the broker checked
                log.warning("dropped a malformed binary delivery on %s", self.topic)
                return False
        await self.base_send(event)
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        pass  # consumer acks ({"messageId": ...}) are accepted; delivery is at most once

    async def disconnect(self, code: Any) -> None:
        self.closing = True
        if self.receiver is None:
            return
        runtime = await get_runtime()
        closed_at = timezone.now()
        backend = runtime.liveness.consumer_disconnected(self.topic, id(self))
        if self.pump is not None:
            await _stop_pump(self.pump, self.receiver.cancel_safe)
        dropped = await self.receiver.close()
        await runtime.census.detached(self.topic, self.subscription)
        if backend:
            await runtime.liveness.backend_gone(self.topic, closed_at)
        await self._answer_undelivered(dropped or [])
        if code in _CLEAN_CLOSE and not self.close_reason:
            # a module shutting down may still answer its running calls: give it time
            grace = settings.DASF_ORPHAN_GRACE
            why = f"it closed its connection and sent no answer within {grace:g} s"
            asyncio.get_running_loop().create_task(self._answer_orphans(why, grace))
        else:
            why = self.close_reason or f"its connection was lost, close code {code}"
            await self._answer_orphans(why, 0.0)

    async def _answer_undelivered(self, texts: list[Message]) -> None:
        """Requests still queued for a subscription that vanished: they never ran."""
        answered: set[tuple[str, str]] = set()
        for text in texts:
            route = route_of(text)
            if route is not None and route not in answered:  # fragments: one answer
                answered.add(route)
                why = "the request was still queued in the broker"
                reply = frames.orphan_error_text(self.topic, route[1], why, delivered=False)
                with contextlib.suppress(Exception):
                    await self.runtime.hub.publish(route[0], reply)

    async def _answer_orphans(self, why: str, delay: float) -> None:
        """Send an error response for each request this socket received and did not answer."""
        if delay:
            await asyncio.sleep(delay)
        for topic, (response_topic, context) in await self.runtime.inflight.take(self.token):
            text = frames.orphan_error_text(topic, context, why)
            try:
                await self.runtime.hub.publish(response_topic, text)
            except Exception:  # best effort: the caller's own timeout still applies
                log.exception("answering an orphaned request on %s failed", response_topic)


async def _stop_pump(pump: asyncio.Task, cancel_safe: bool) -> None:
    """Stop a pump; if cancelling could lose a message, let its current poll finish first."""
    if not cancel_safe:
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(pump), timeout=5)
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await pump


class NotFoundSocket(_BrokerSocket):
    """Any other websocket path: refused with 404 and the routes that exist."""

    async def connect(self) -> None:
        await self.reject(
            404,
            f"no websocket route {self.scope.get('path')!r}; use /ws/<topic> to produce, "
            "/ws/<topic>/<subscription> to consume, or the Pulsar-style "
            "/ws/v2/producer|consumer/... paths",
        )

    async def receive(self, text_data=None, bytes_data=None):
        raise StopConsumer()
