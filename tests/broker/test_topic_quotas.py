"""Issue 13, hole 2: topic squatting. Quotas on topic creation, and an admin takes names back.

Before the fix an anonymous client created one database row per publish to a new name,
without limit, and a squatted name blocked ``dasf_topic create`` for its rightful owner.
Real broker processes, real websockets; the memory hub and the PostgreSQL+Redis pair.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.brokerfixtures import publish_frame, recv_json, scaled_out_brokers

TIMEOUT = 10.0


def ws(url: str, key: str | None = None) -> ClientConnection:
    headers = {"Authorization": f"Token {key}"} if key else None
    return connect(url, additional_headers=headers, open_timeout=TIMEOUT, close_timeout=2)


def handshake(url: str, key: str | None = None) -> str | None:
    """None if a websocket to ``url`` opens, else the refusal body."""
    try:
        with ws(url, key):
            pass
    except InvalidStatus as exc:
        assert exc.response.status_code == 403
        return exc.response.body.decode()
    return None


def manage(broker: BrokerProcess, *args: str) -> str:
    result = broker.manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def topic_count(broker: BrokerProcess) -> int:
    return len(manage(broker, "dasf_topic", "list", "--all").splitlines())


def squat(urls: list[str], attempts: int) -> tuple[int, str | None]:
    """Open producer sockets to ``attempts`` new names, alternating over ``urls``."""
    run = uuid.uuid4().hex[:8]
    for n in range(attempts):
        refusal = handshake(f"{urls[n % len(urls)]}/squat-{run}-{n}")
        if refusal is not None:
            return n, refusal
    return attempts, None


def test_one_connection_cannot_create_topics_without_limit(start_broker):
    broker = start_broker(env={"DASF_TOPIC_QUOTA_PER_CONNECTION": "5"})
    topic = f"q-{uuid.uuid4().hex[:8]}"
    with ws(f"{broker.url}/{topic}") as producer:  # creates the topic: 1 of 5
        acks = []
        for n in range(8):
            frame = publish_frame(
                "e30=", context=n, requestContext=n, response_topic=f"{topic}_{n}"
            )
            producer.send(frame)
            acks.append(recv_json(producer)["result"])
        assert acks[:4] == ["ok"] * 4
        assert acks[4] == (
            f"topic '{topic}_4' not created: this connection already created 5 topics "
            "(DASF_TOPIC_QUOTA_PER_CONNECTION=5)"
        )
        # existing topics are not limited: the connection keeps working
        producer.send(
            publish_frame("e30=", context=9, requestContext=9, response_topic=f"{topic}_0")
        )
        assert recv_json(producer)["result"] == "ok"
    assert topic_count(broker) == 5
    assert handshake(f"{broker.url}/{topic}_new") is None  # a new connection, a new budget


def test_anonymous_squatting_is_bounded_and_an_admin_takes_a_name_back(start_broker):
    broker = start_broker(env={"DASF_TOPIC_QUOTA_ANONYMOUS": "10"})
    created, refusal = squat([broker.url], 30)
    assert created == 10
    assert refusal is not None and refusal.startswith("topic 'squat-")
    assert refusal.endswith(
        "' not created: anonymous callers already own 10 topics "
        "(DASF_TOPIC_QUOTA_ANONYMOUS=10; an admin can delete topics with dasf_topic delete)"
    )
    assert topic_count(broker) == 10
    # a user with a token still creates topics; anonymous still uses existing ones
    manage(broker, "dasf_user", "create", "alice")
    key = manage(broker, "dasf_token", "create", "alice")
    assert handshake(f"{broker.url}/alice-module/backend", key) is None
    squatted = manage(broker, "dasf_topic", "list").splitlines()[-1].split("\t")[0]
    assert handshake(f"{broker.url}/{squatted}") is None
    # the rightful owner gets the name back: create fails with a hint, --force takes it over
    result = broker.manage("dasf_topic", "create", squatted, "--owner", "alice")
    assert result.returncode != 0
    assert f"topic '{squatted}' already exists (created by anonymous); --force" in result.stderr
    took = manage(broker, "dasf_topic", "create", squatted, "--owner", "alice", "--force")
    assert took.startswith(f"took over topic '{squatted}' (was created by anonymous")
    assert f"{squatted}\towner alice\t-" in manage(broker, "dasf_topic", "list")
    # deleting squatted names frees the anonymous quota
    manage(broker, "dasf_topic", "delete", squatted)
    assert handshake(f"{broker.url}/fresh-{uuid.uuid4().hex[:8]}") is None


def test_per_user_quota_and_force_take_over_on_a_secure_broker(start_broker):
    broker = start_broker(secure=True, env={"DASF_TOPIC_QUOTA_PER_USER": "3"})
    keys = {}
    for name in ("alice", "mallory"):
        manage(broker, "dasf_user", "create", name)
        keys[name] = manage(broker, "dasf_token", "create", name)
    # mallory squats the name alice's module needs, and more
    assert handshake(f"{broker.url}/climate/backend", keys["mallory"]) is None
    for n in range(2):
        assert handshake(f"{broker.url}/m-{n}", keys["mallory"]) is None
    assert handshake(f"{broker.url}/m-2", keys["mallory"]) == (
        "topic 'm-2' not created: user 'mallory' already owns 3 topics "
        "(DASF_TOPIC_QUOTA_PER_USER=3; an admin can delete topics with dasf_topic delete)"
    )
    assert handshake(f"{broker.url}/alice-1/backend", keys["alice"]) is None  # unaffected
    result = broker.manage("dasf_topic", "create", "climate", "--owner", "alice")
    assert "already exists (created by mallory); --force takes it over" in result.stderr
    manage(broker, "dasf_topic", "create", "climate", "--owner", "alice", "--force")
    assert handshake(f"{broker.url}/climate/backend", keys["mallory"]) == (
        "user 'mallory' may not consume topic 'climate'"
    )
    assert handshake(f"{broker.url}/climate/backend", keys["alice"]) is None


def test_anonymous_quota_holds_across_two_scaled_out_brokers(tmp_path: Path):
    with scaled_out_brokers(tmp_path, "quota", {"DASF_TOPIC_QUOTA_ANONYMOUS": "6"}) as (a, b):
        created, refusal = squat([a.url, b.url], 20)
        assert created == 6 and "DASF_TOPIC_QUOTA_ANONYMOUS=6" in (refusal or "")
        assert topic_count(a) == 6
        assert handshake(f"{b.url}/squat-more") is not None
        topic = manage(a, "dasf_topic", "list").splitlines()[0].split("\t")[0]
        assert handshake(f"{b.url}/{topic}") is None  # existing topics keep working
