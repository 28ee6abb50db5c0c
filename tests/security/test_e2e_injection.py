"""Messages injected into a caller's response topic cannot steer the call or the client.

The attacker is a fellow consumer of the module's topic on a real broker: it sees each
request (response topic, requestContext) and publishes forged progress, forged results and
pings to the caller's response topic.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout

import psutil
import pytest

from dasf_jupyter.errors import CallTimeout
from dasf_jupyter.protocol import Envelope, encode_json_payload
from dasf_jupyter.security import KnownModules

from .attackers import Injector, TopicSpy
from .wired import MEMBERS, client, new_topic, serve  # noqa: F401 - fixtures


def slow(seconds: float) -> str:
    """Sleep, then answer."""
    time.sleep(seconds)
    return "slept"


def forged_progress(context: str) -> Envelope:
    report = {"message": "still working", "step": 1, "steps": 2}
    props = {"messageType": "progress", "requestContext": context, "status": "running"}
    return Envelope(encode_json_payload(report), props)


def forged_result(context: str) -> Envelope:
    props = {"messageType": "response", "requestContext": context, "status": "success"}
    return Envelope(encode_json_payload("forged"), props)


def test_forged_progress_cannot_keep_a_sealed_call_past_its_deadline(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic("inj")
    serve(broker_url, topic, members=[*MEMBERS, slow], security="encrypted-optional")
    conn = client(broker_url, timeout=3)
    remote = conn.module(topic)
    assert KnownModules(conn.security.known_modules.path).get(topic)  # sealed from now on
    spy = TopicSpy(broker_url, topic)
    started = time.monotonic()
    future = conn.submit(topic, {"func_name": "slow", "seconds": 10})
    request = spy.next_message()
    assert request.properties.get("dasf_e2e") == "v1"
    context = str(request.request_context)
    injector = Injector(broker_url, str(request.response_topic))
    try:
        injector.repeat(lambda: forged_progress(context), every=0.3, limit=15)
        with pytest.raises(CallTimeout):
            future.result(timeout=20)
        elapsed = time.monotonic() - started
        # 3 s timeout (+ expiry checks every 0.5 s); the module itself answers after 10 s
        assert elapsed < 8, f"the forged progress kept the call alive for {elapsed:.1f} s"
        assert injector.sent >= 5 and conn.dropped_replies >= 5
        # legitimate sealed calls keep working on the same connection
        assert remote.add(2, 3) == 5
        assert remote.counted(3) == 3
    finally:
        injector.close()
        # closed last: our broker answers requests queued for a vanished subscription
        # with BackendDisconnected (unsealed, from the broker), which would race the module
        spy.close()


def _tcp_sockets() -> int:
    return len(psutil.Process().net_connections(kind="tcp"))


def test_ping_flood_costs_no_thread_no_socket_and_reflects_nowhere(
    ref_broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    # dasf-broker-django (like a hostile broker) forwards pings with any response_topic; ours
    # only takes reply topics named after the topic published to
    broker_url = ref_broker_url
    topic = new_topic("png")
    serve(broker_url, topic)
    conn = client(broker_url, timeout=30)
    remote = conn.module(topic)
    spy = TopicSpy(broker_url, topic)
    assert remote.add(1, 1) == 2
    response_topic = str(spy.next_message().response_topic)
    victim = TopicSpy(broker_url, "victim-" + new_topic())
    injector = Injector(broker_url, response_topic)
    threads_before, sockets_before = threading.active_count(), _tcp_sockets()
    peak_threads = threads_before
    try:
        victim_topic = victim.socket.url.rsplit("/", 2)[-2]
        for i in range(210):
            # reflect to a topic the attacker reads, ask for the status topic, or reflect to
            # a new topic each time (a socket each?)
            reply_to = (victim_topic, "status-ping", f"{victim_topic}-{i}")[i % 3]
            ping = {"messageType": "ping", "requestContext": i, "response_topic": reply_to}
            injector.send(Envelope("", ping))
            peak_threads = max(peak_threads, threading.active_count())
        # the broker probes the victim's consumer too: only pongs would be reflections
        reflected = [e for e in victim.quiet_for(2.0) if e.message_type == "pong"]
        peak_threads = max(peak_threads, threading.active_count())
        sockets_after = _tcp_sockets()
        assert remote.add(2, 2) == 4
    finally:
        injector.close()
        victim.close()
        spy.close()
    print(
        f"\nping flood: threads {threads_before} -> peak {peak_threads}, "
        f"tcp sockets {sockets_before} -> {sockets_after}, reflected {len(reflected)}"
    )
    assert reflected == [], f"pongs reflected to {victim_topic!r}"
    # the pong worker and its producer socket reader, once; none per ping
    assert peak_threads <= threads_before + 5
    assert sockets_after <= sockets_before + 3  # the injector's own socket + one pong socket


def test_unsealed_injected_result_never_resolves_a_sealed_call(
    broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
):
    topic = new_topic("res")
    serve(broker_url, topic, members=[*MEMBERS, slow], security="encrypted-optional")
    conn = client(broker_url, timeout=30)
    conn.module(topic)
    spy = TopicSpy(broker_url, topic)
    future = conn.submit(topic, {"func_name": "slow", "seconds": 2})
    request = spy.next_message()
    injector = Injector(broker_url, str(request.response_topic))
    try:
        injector.send(forged_result(str(request.request_context)))
        with pytest.raises(FutureTimeout):
            future.result(timeout=0.5)  # the forged result did not resolve it
        assert future.result(timeout=20) == "slept"  # the module's sealed answer did
    finally:
        injector.close()
        spy.close()
    assert conn.dropped_replies >= 1


def _settled(measure, quiet: float = 1.5, limit: float = 40.0) -> int:
    """``measure()`` once it has not changed for ``quiet`` s (or after ``limit`` s)."""
    deadline = time.monotonic() + limit
    value, since = measure(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        current = measure()
        if current != value:
            value, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return value


def test_injected_pings_on_a_module_topic_reflect_nowhere_and_stay_bounded(
    ref_broker_url,
    serve,  # noqa: F811
    client,  # noqa: F811
    monkeypatch,
):
    # dasf-broker-django (like a hostile broker) forwards any response_topic: the module
    # itself must not reflect probes to a topic the sender chose
    monkeypatch.setattr("dasf_jupyter.backend.serve.MAX_REPLY_SOCKETS", 16, raising=False)
    broker_url = ref_broker_url
    topic = new_topic("bkp")
    serve(broker_url, topic)
    victim = TopicSpy(broker_url, "victim-" + new_topic())
    victim_topic = victim.socket.url.rsplit("/", 2)[-2]
    injector = Injector(broker_url, topic)
    threads_before, sockets_before = threading.active_count(), _tcp_sockets()
    try:
        for i in range(50):  # reflection to a topic the attacker reads
            ping = {"messageType": "ping", "requestContext": i, "response_topic": victim_topic}
            injector.send(Envelope("", ping))
        reflected = [e for e in victim.quiet_for(2.0) if e.message_type == "pong"]
        for i in range(60):  # many distinct, well-formed response topics: one socket each?
            ping = {"messageType": "ping", "requestContext": i, "response_topic": f"{topic}_f{i}"}
            injector.send(Envelope("", ping))
        sockets_after = _settled(_tcp_sockets)
        threads_after = _settled(threading.active_count)
    finally:
        injector.close()
        victim.close()
    print(
        f"\nmodule ping flood: threads {threads_before} -> {threads_after}, "
        f"tcp sockets {sockets_before} -> {sockets_after}, reflected {len(reflected)}"
    )
    assert reflected == [], f"the module answered pings on {victim_topic!r}"
    assert sockets_after <= sockets_before + 16 + 4  # the cap, plus the injector's socket
    # a producer socket has three threads (its ack reader, the websocket's reader and
    # keepalive): bounded by the socket cap, not by the number of pings
    assert threads_after <= threads_before + 3 * 16 + 4
    assert client(broker_url).module(topic).add(1, 2) == 3
