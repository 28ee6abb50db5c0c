"""The broker's settings table: every environment variable of ``dasf-broker``, in one place.

The Django settings module (broker/settings.py) turns a :class:`BrokerSettings` into Django
settings of the same names (``DASF_MAX_MESSAGE_SIZE`` …). ``dasf-broker`` resolves them from
the environment and its flags and hands them over with :func:`install`: it never writes the
environment. Importing this module touches neither the environment nor the disk.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..settings_table import boolean, choice, integer, load, number, path, setting, text
from .origins import parse_origins

MiB = 1 << 20
DEFAULT_DATA_DIR = "~/.local/share/dasf-jupyter/broker"


def _origins(value: str) -> str:
    parse_origins(value)  # refuses a malformed entry with its reason
    return value


@dataclass(frozen=True)
class BrokerSettings:
    """What a broker process is configured with (docs/configuration.md, "Broker")."""

    secure: bool = setting(
        "DASF_BROKER_SECURE",
        boolean,
        False,
        "require tokens and topic permissions (off: open development mode)",
        flag="--secure",
    )
    data_dir: Path = setting(
        "DASF_DATA_DIR",
        path,
        Path(DEFAULT_DATA_DIR).expanduser(),
        "directory of the SQLite database, the secret key and static files",
        flag="--data-dir",
        metavar="D",
        shown_default=DEFAULT_DATA_DIR,
    )
    max_message_size: int = setting(
        "DASF_MAX_MESSAGE_SIZE",
        integer(1024, "bytes"),
        64 * MiB,
        "largest websocket message accepted, in bytes",
        flag="--max-message-size",
        metavar="BYTES",
        shown_default="64 MiB",
    )
    max_backlog_bytes: int = setting(
        "DASF_MAX_BACKLOG_BYTES",
        integer(1, "bytes"),
        512 * MiB,
        "undelivered data of one subscription; beyond it the subscription is cut off and its "
        "consumers closed",
        shown_default="512 MiB",
    )
    max_backlog_total: int = setting(
        "DASF_MAX_BACKLOG_TOTAL",
        integer(1024, "bytes"),
        512 * MiB,
        "undelivered data across all subscriptions (with Redis: all queues of the prefix); the "
        "largest backlogs are cut off first, a publish that finds no room is refused",
        flag="--max-backlog-total",
        metavar="BYTES",
        shown_default="512 MiB",
    )
    ping_interval: float = setting(
        "DASF_PING_INTERVAL", number(positive=True), 30.0, "seconds between status pings"
    )
    online_window: float = setting(
        "DASF_ONLINE_WINDOW",
        number(positive=True),
        90.0,
        "a module that answered a ping within this many seconds counts as online",
    )
    unserved_timeout: float = setting(
        "DASF_UNSERVED_TIMEOUT",
        number(minimum=0),
        30.0,
        "seconds a request to a topic without consumer is held before it fails",
    )
    unserved_max_count: int = setting(
        "DASF_UNSERVED_MAX_COUNT",
        integer(0),
        1000,
        "requests held for topics without consumer (per broker process)",
    )
    unserved_max_bytes: int = setting(
        "DASF_UNSERVED_MAX_BYTES",
        integer(0, "bytes"),
        256 * MiB,
        "bytes of requests held for topics without consumer (per broker process)",
        shown_default="256 MiB",
    )
    orphan_grace: float = setting(
        "DASF_ORPHAN_GRACE",
        number(minimum=0),
        30.0,
        "after a backend's consumer closes cleanly, its unanswered requests get an error "
        "response once this many seconds passed without their answer (at once after a crash)",
    )
    response_topic_max_age: float = setting(
        "DASF_RESPONSE_TOPIC_MAX_AGE",
        number(minimum=0),
        24 * 3600.0,
        "response topics unused this many seconds are deleted (0 = never)",
    )
    gc_interval: float = setting(
        "DASF_GC_INTERVAL",
        number(minimum=0),
        3600.0,
        "seconds between two sweeps for unused response topics (0 = never)",
    )
    topic_quota_per_connection: int = setting(
        "DASF_TOPIC_QUOTA_PER_CONNECTION",
        integer(0),
        50,
        "topics one websocket may create (0 = no limit)",
    )
    topic_quota_per_user: int = setting(
        "DASF_TOPIC_QUOTA_PER_USER", integer(0), 1000, "topics one user may own (0 = no limit)"
    )
    topic_quota_anonymous: int = setting(
        "DASF_TOPIC_QUOTA_ANONYMOUS",
        integer(0),
        5000,
        "topics all anonymous callers together may own (0 = no limit; reply topics count in "
        "the hour after their creation only)",
    )
    response_topic_claim_window: float = setting(
        "DASF_RESPONSE_TOPIC_CLAIM_WINDOW",
        number(minimum=0),
        60.0,
        "seconds in which a topic subscribed to before its request topic existed may become "
        "its creator's reply topic (docs/security-model.md)",
    )
    ws_compression: bool = setting(
        "DASF_WS_COMPRESSION",
        boolean,
        False,
        "permessage-deflate on websockets (costs seconds of CPU per large base64 payload)",
    )
    access_recheck_interval: float = setting(
        "DASF_ACCESS_RECHECK_INTERVAL",
        number(positive=True),
        2.0,
        "open sockets lose a revoked token or right within this many seconds",
    )
    share_reference_replicas: bool = setting(
        "DASF_SHARE_REFERENCE_REPLICAS",
        boolean,
        True,
        "reference (demessaging) backends join the shared subscription backend-module, so "
        "their replicas share the calls",
    )
    database_url: str = setting(
        "DATABASE_URL",
        text,
        "",
        "PostgreSQL URL shared by several broker processes (default: SQLite in the data dir)",
    )
    redis_url: str = setting(
        "REDIS_URL",
        text,
        "",
        "Redis URL: several broker processes serve the same topics (default: in-memory)",
    )
    redis_prefix: str = setting(
        "DASF_REDIS_PREFIX",
        text,
        "dasf",
        "key prefix in Redis, so several brokers (or test runs) can share one Redis server",
    )
    heartbeat_ttl: float = setting(
        "DASF_BROKER_HEARTBEAT_TTL",
        number(positive=True),
        5.0,
        "a broker process whose heartbeat in Redis is this many seconds old counts as dead",
    )
    secret_key: str = setting(
        "DJANGO_SECRET_KEY",
        text,
        "",
        "Django's secret key",
        shown_default="random, kept in the data dir",
    )
    debug: bool = setting("DASF_DEBUG", boolean, False, "Django debug mode (never in production)")
    listen_host: str = setting(
        "DASF_LISTEN_HOST",
        text,
        "127.0.0.1",
        "host name the default of DASF_ALLOWED_HOSTS is made from (dasf-broker: its --host)",
    )
    allowed_hosts: str = setting(
        "DASF_ALLOWED_HOSTS",
        text,
        "",
        "comma-separated host names the broker answers to (HTTP and browser websockets)",
        flag="--allowed-hosts",
        metavar="HOSTS",
        shown_default="the listening host and localhost's names",
    )
    allowed_origins: str = setting(
        "DASF_ALLOWED_ORIGINS",
        _origins,
        "",
        "comma-separated web origins (scheme://host[:port]) whose pages may open websockets "
        "here, '*' for any; clients that are not browsers are not affected",
        flag="--allowed-origins",
        metavar="ORIGINS",
        shown_default="none besides the broker's own origin",
    )
    csrf_trusted_origins: str = setting(
        "DASF_CSRF_TRUSTED_ORIGINS",
        text,
        "",
        "comma-separated origins Django trusts for admin forms behind a proxy",
    )
    log_level: str = setting(
        "DASF_LOG_LEVEL",
        choice("critical", "error", "warning", "info", "debug"),
        "info",
        "level of the broker's own log (dasf_jupyter.broker); uvicorn's is --log-level",
    )
    exit_with_parent: int = setting(
        "DASF_EXIT_WITH_PARENT",
        integer(0),
        0,
        "process id: the broker shuts down once this process is no longer its parent",
        internal=True,
    )


#: the settings dasf-broker resolved for this process (one slot; empty: read the environment)
_installed: list[BrokerSettings] = []


def install(settings: BrokerSettings | None) -> None:
    """Hand the settings of this process to the Django settings module (``dasf-broker``).

    ``None`` forgets them (the environment is read again).
    """
    _installed.clear()
    if settings is not None:
        _installed.append(settings)


def current(environ: Mapping[str, str] | None = None) -> BrokerSettings:
    """The installed settings, else those of ``environ`` (default: the process environment).

    Called by the Django settings module: the edge where a broker started by another ASGI
    server (``uvicorn dasf_jupyter.broker.asgi:application``) reads its environment.
    """
    if _installed:
        return _installed[0]
    return load(BrokerSettings, os.environ if environ is None else environ)


def prepare_data_dir(settings: BrokerSettings) -> None:
    """Create the data dir and its secret key file (when the broker starts, not at import)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not settings.secret_key:
        secret_key(settings.data_dir)


def secret_key(data_dir: Path) -> str:
    """The key kept in ``data_dir`` (stable across restarts), created if the folder exists."""
    key_path = data_dir / "secret_key"
    try:
        return key_path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    if not data_dir.is_dir():
        return key  # nothing persists without the folder: the key need not either
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the same broker was first
        return key_path.read_text().strip()
    with os.fdopen(fd, "w") as stream:
        stream.write(key)
    return key
