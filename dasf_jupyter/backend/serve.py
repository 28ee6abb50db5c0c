"""The I/O around a :class:`~.dispatch.Dispatcher`: consume, dispatch, publish, reconnect."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import TracebackType

from ..errors import BrokerError, ConnectionLost, DasfError, ProtocolError
from ..protocol.deadline import ttl_of
from ..transport import WEBSOCKETS, BrokerUrl, ConsumerSocket, ProducerPool, Transport
from .dispatch import SHUTDOWN_MESSAGE, Dispatcher, Job, Outgoing
from .pool import WorkerPool
from .replicas import check_in_background

log = logging.getLogger(__name__)

#: close response-topic producers unused for this long (the reference's default)
PRODUCER_KEEP_ALIVE = 120.0
#: longest pause between reconnection attempts
MAX_BACKOFF = 30.0
#: at most this many producer sockets to response topics (least recently used closed first)
MAX_REPLY_SOCKETS = 128
#: probe answers and refusals waiting to be published; more are dropped (flood of pings)
MAX_QUEUED_REPLIES = 256
#: how long to wait for the broker to acknowledge a response (all fragments)
ACK_TIMEOUT = 60.0
ACK_TIMEOUT_PER_FRAGMENT = 1.0
#: how often the receive loop expires idle fragment sets and logs warning summaries
IDLE_TICK = 1.0


#: the subscription every replica of a topic uses unless told otherwise: replicas share the
#: work (each request runs in one of them); the reference appends its start time instead
DEFAULT_SUBSCRIPTION = "backend-module"


class ModuleServer:
    """Serves one dispatcher on one broker until :meth:`stop`.

    ``transport`` opens its sockets (default: real websockets; :mod:`dasf_jupyter.testing`
    passes an in-memory broker's).
    """

    def __init__(  # noqa: PLR0913 -- keyword-only options
        self,
        dispatcher: Dispatcher,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        subscription: str | None = None,
        max_workers: int = 4,
        queue_size: int | None = None,
        producer_keep_alive: float = PRODUCER_KEEP_ALIVE,
        max_backoff: float = MAX_BACKOFF,
        transport: Transport | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.transport = transport or WEBSOCKETS
        self.topic = dispatcher.topic
        self.url = url
        self.broker = BrokerUrl.parse(url)
        self.headers = dict(headers or {})
        self.subscription = subscription or DEFAULT_SUBSCRIPTION
        self.consumer_url = self.broker.consumer(self.topic, self.subscription)
        self.producer_keep_alive = producer_keep_alive
        self.max_backoff = max_backoff
        self.workers = WorkerPool(max_workers, queue_size)
        self.producers = ProducerPool(
            self.broker.producer,
            self.headers,
            max_sockets=MAX_REPLY_SOCKETS,
            transport=self.transport,
        )
        self._queued_replies = 0
        #: probe answers and refusals dropped because too many were waiting
        self.dropped_replies = 0
        # replies decided by the receive loop are published here, so a slow connect to a
        # new response topic never stalls receiving
        self._replies = ThreadPoolExecutor(1, thread_name_prefix="dasf-replies")
        self._consumer: ConsumerSocket | None = None
        self._stopping = threading.Event()
        #: called with this server once it has stopped and closed its sockets
        self.on_stopped: list[Callable[[ModuleServer], None]] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the consumer socket (raises the connection error)."""
        consumer = ConsumerSocket(
            self.consumer_url, self.headers, binary=True, transport=self.transport
        )
        with self._lock:
            if self._stopping.is_set():
                consumer.close()
                raise ConnectionLost("the module was stopped while connecting")
            self._consumer = consumer
        log.info(
            "serving topic %r on %s (subscription %s)", self.topic, self.url, self.subscription
        )
        check_in_background(
            self.broker, self.headers, self.topic, self.subscription, self.transport
        )

    def run(self) -> None:
        """Receive and dispatch until :meth:`stop`; reconnects when the broker goes away."""
        try:
            if self._consumer is None:
                self.connect()
            last_housekeeping = last_tick = time.monotonic()
            while not self._stopping.is_set():
                consumer = self._consumer
                if consumer is None:  # stopped while reconnecting
                    break
                try:
                    envelope = consumer.receive(timeout=1.0)
                except TimeoutError:
                    pass
                except ProtocolError as exc:
                    self.dispatcher.warnings.warn(
                        "invalid frames", "ignoring an invalid frame on %s: %s", self.topic, exc
                    )
                except ConnectionLost as exc:
                    if self._stopping.is_set():
                        break
                    log.warning("lost the connection to %s: %s", self.url, exc)
                    self._reconnect()
                else:
                    try:
                        self._handle(envelope)
                    except Exception:  # a bug in one message's handling must not end serving
                        log.exception("error handling a message on %s", self.topic)
                if time.monotonic() - last_tick >= IDLE_TICK:
                    last_tick = time.monotonic()
                    self._idle_tick()
                if time.monotonic() - last_housekeeping > 5.0:
                    last_housekeeping = time.monotonic()
                    self.producers.close_idle(self.producer_keep_alive)
        finally:
            self._shutdown()

    def _idle_tick(self) -> None:
        """Expire idle fragment sets (answering their senders); log warning summaries."""
        for outgoing in self.dispatcher.expire_fragments():
            self._queue_reply([outgoing])
        self.dispatcher.warnings.flush()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving; let running calls finish for up to ``timeout`` s; close sockets."""
        self._stop_timeout = timeout
        with self._lock:
            self._stopping.set()
            consumer = self._consumer
        if consumer is not None:
            consumer.close()  # wakes the receive loop at once

    @property
    def stopped(self) -> threading.Event:
        return self._stopped

    def _shutdown(self) -> None:
        with self._lock:
            self._stopping.set()
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()
        timeout = getattr(self, "_stop_timeout", 10.0)
        if not self.workers.shutdown(timeout):
            log.warning(
                "calls on %s still running after %s s; abandoning them", self.topic, timeout
            )
        self._replies.shutdown(wait=True, cancel_futures=False)
        self.producers.close()
        self._stopped.set()
        log.info("stopped serving topic %r", self.topic)
        for callback in self.on_stopped:
            callback(self)

    def _reconnect(self) -> None:
        delay = 0.25
        with self._lock:
            old, self._consumer = self._consumer, None
        if old is not None:
            old.close()
        while not self._stopping.is_set():
            if self._stopping.wait(delay):
                break
            try:
                self.connect()
                log.info("reconnected to %s", self.url)
                return
            except DasfError as exc:
                delay = min(delay * 2, self.max_backoff)
                log.warning(
                    "reconnecting to %s failed (%s); next try in %.1f s", self.url, exc, delay
                )

    # -- messages -----------------------------------------------------------------------

    def _handle(self, envelope) -> None:
        decision = self.dispatcher.route(envelope)
        for outgoing in decision.replies:
            self._queue_reply([outgoing])
        job = decision.job
        if job is None:
            return
        ttl = ttl_of(job.request.properties)
        expires = None if ttl is None else time.monotonic() + ttl
        accepted = self.workers.try_submit(
            lambda: self._work(job, expires), on_cancel=lambda: self._reject(job, SHUTDOWN_MESSAGE)
        )
        if not accepted:
            self._queue_reply(self.dispatcher.rejection(job))

    def _queue_reply(self, replies: list[Outgoing]) -> None:
        """Publish from the reply thread; drop when ``MAX_QUEUED_REPLIES`` are waiting.

        Answers decided by the receive loop cost the sender nothing, so a flood of pings (or
        of requests refused for overflow) must not queue without bound.
        """
        with self._lock:
            if self._queued_replies >= MAX_QUEUED_REPLIES:
                self.dropped_replies += 1
                dropped = self.dropped_replies
            else:
                self._queued_replies += 1
                dropped = 0
        if dropped:
            if dropped == 1 or dropped % 1000 == 0:
                log.warning("%d probe answers on %s dropped: too many queued", dropped, self.topic)
            return

        def publish() -> None:
            try:
                self._publish_logged(replies)
            finally:
                with self._lock:
                    self._queued_replies -= 1

        try:
            self._replies.submit(publish)
        except RuntimeError:  # shut down meanwhile
            with self._lock:
                self._queued_replies -= 1

    def _work(self, job: Job, expires: float | None = None) -> None:
        if expires is not None and time.monotonic() > expires:
            # it waited for a worker longer than its caller waits (dasf_ttl): never start it
            log.warning("skipped a request on %s: its caller has given up", self.topic)
            return
        replies = self.dispatcher.run(job, send=self._send_nowait)
        WorkerPool.release_slot()  # the work is done: the next request may take the place
        self._publish_logged(replies)

    def _reject(self, job: Job, message: str) -> None:
        self._publish_logged(self.dispatcher.rejection(job, message))

    def _send_nowait(self, outgoing: Outgoing) -> None:
        """Publish a progress/log message without waiting for its ack."""
        if self._stopped.is_set():
            return  # a call abandoned by stop() must not reopen sockets
        try:
            future = self.producers.get(outgoing.topic).publish_nowait(outgoing.envelope)
        except (DasfError, ValueError) as exc:
            log.warning("cannot send a %s message to %s: %s", _kind(outgoing), outgoing.topic, exc)
            return
        future.add_done_callback(lambda f: _log_failure(f, outgoing))

    def _publish_logged(self, replies: list[Outgoing]) -> None:
        """Publish replies (all fragments back to back) and wait for their acks."""
        if not replies:
            return
        if self._stopped.is_set():
            log.warning("dropping a reply to %s: the module has stopped", replies[0].topic)
            return
        for attempt in (1, 2):
            try:
                self._publish_all(replies)
                return
            except ConnectionLost as exc:
                # a cached producer may have died while idle: retry once on a fresh one
                if attempt == 2:
                    log.error("cannot deliver the reply to %s: %s", replies[0].topic, exc)
            except (BrokerError, ValueError) as exc:
                log.error("cannot deliver the reply to %s: %s", replies[0].topic, exc)
                return

    def _publish_all(self, replies: list[Outgoing]) -> None:
        futures: list[Future] = []
        for outgoing in replies:
            futures.append(self.producers.get(outgoing.topic).publish_nowait(outgoing.envelope))
        # a big fragmented result needs longer than one small reply
        timeout = ACK_TIMEOUT + ACK_TIMEOUT_PER_FRAGMENT * len(futures)
        # one by one against one deadline: cheaper than concurrent.futures.wait per reply
        deadline = time.monotonic() + timeout
        for future in futures:
            try:
                future.result(max(deadline - time.monotonic(), 0.0))  # BrokerRefused, ...
            except FutureTimeout:
                not_done = sum(not f.done() for f in futures)
                raise BrokerError(
                    f"{not_done} message(s) not acknowledged in {timeout} s"
                ) from None


def _kind(outgoing: Outgoing) -> str:
    return str(outgoing.envelope.message_type)


def _log_failure(future: Future, outgoing: Outgoing) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("a %s message to %s failed: %s", _kind(outgoing), outgoing.topic, exc)


class ServeHandle:
    """A module served in a background thread; stop it with :meth:`stop` (or ``with``)."""

    def __init__(self, server: ModuleServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=self._run, name=f"dasf-serve-{server.topic}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception:
            log.exception("the module serving %r stopped with an error", self.topic)

    @property
    def topic(self) -> str:
        return self._server.topic

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def subscription(self) -> str:
        return self._server.subscription

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._server.stopped.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (idempotent): running calls get ``timeout`` s, then sockets close."""
        self._server.stop(timeout)
        self._thread.join(timeout + 5.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the module stops; ``True`` if it did within ``timeout`` s."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> ServeHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ServeHandle topic={self.topic!r} url={self.url!r} {state}>"
