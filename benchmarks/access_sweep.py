"""``python -m benchmarks.access_sweep [--sockets N] [--database-url URL]``: cost of one
re-check of the open sockets' tokens and rights (``broker/access_watch.py``).

Every ``DASF_ACCESS_RECHECK_INTERVAL`` seconds (default 2) a broker process runs one such sweep
for all its sockets; this measures its time on a fresh database with N sockets of N/2 users
(a producer and a consumer socket each, on their own topics, half of them by grant).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def _setup_django(database_url: str | None) -> None:
    os.environ["DASF_DATA_DIR"] = tempfile.mkdtemp(prefix="dasf-sweep-")
    os.environ["DASF_BROKER_SECURE"] = "1"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    from dasf_jupyter.broker.server import setup_django

    setup_django(migrate=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.access_sweep")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="a fresh PostgreSQL database (default: SQLite)")
    options = parser.parse_args(argv)
    _setup_django(options.database_url)

    from django.contrib.auth import get_user_model

    from dasf_jupyter.broker.access_watch import Grant, verdicts
    from dasf_jupyter.broker.models import ApiToken, Topic, TopicPermission

    users = options.sockets // 2
    grants = []
    for i in range(users):
        user = get_user_model().objects.create_user(f"sweep-{i}")
        token, _ = ApiToken.create_for(user)
        owner = user if i % 2 == 0 else None
        topic = Topic.objects.create(name=f"sweep-topic-{i}", owner=owner)
        if owner is None:
            TopicPermission.objects.create(
                topic=topic, user=user, can_produce=True, can_consume=True
            )
        for action in ("produce", "consume"):
            grants.append(Grant(user.pk, token.key_hash, action, topic.name))
    decisions: dict = {}  # kept between sweeps, as the broker's AccessWatch does
    timings = []
    for _ in range(options.repeat + 1):
        start = time.perf_counter()
        refused = verdicts(grants, decisions)
        timings.append(time.perf_counter() - start)
        assert not refused, refused
    backend = "PostgreSQL" if options.database_url else "SQLite"
    first, steady = timings[0], timings[1:]
    print(
        f"access re-check of {len(grants)} sockets ({backend}): first sweep (every right "
        f"decided) {first * 1000:.0f} ms; later sweeps median "
        f"{statistics.median(steady) * 1000:.0f} ms, max {max(steady) * 1000:.0f} ms",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
