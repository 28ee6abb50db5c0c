"""Running the broker: environment, migrations, and the uvicorn server."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SETTINGS_MODULE = "dasf_jupyter.broker.settings"
# any constant works; serialises migrations of broker processes sharing one PostgreSQL
_MIGRATION_LOCK_ID = 0x64617366
READY_MARKER = "dasf-broker: listening on"

log = logging.getLogger(__name__)


def configure_environment(
    data_dir: str | Path | None = None,
    secure: bool | None = None,
    max_message_size: int | None = None,
    listen_host: str | None = None,
    allowed_origins: str | None = None,
    allowed_hosts: str | None = None,
    max_backlog_total: int | None = None,
) -> None:
    """Put command-line choices into the environment the settings module reads."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if data_dir is not None:
        os.environ["DASF_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    if secure is not None:
        os.environ["DASF_BROKER_SECURE"] = "1" if secure else "0"
    if max_message_size is not None:
        os.environ["DASF_MAX_MESSAGE_SIZE"] = str(int(max_message_size))
    if listen_host is not None:  # the default of ALLOWED_HOSTS
        os.environ["DASF_LISTEN_HOST"] = listen_host
    if allowed_origins is not None:
        os.environ["DASF_ALLOWED_ORIGINS"] = allowed_origins
    if allowed_hosts is not None:
        os.environ["DASF_ALLOWED_HOSTS"] = allowed_hosts
    if max_backlog_total is not None:
        os.environ["DASF_MAX_BACKLOG_TOTAL"] = str(int(max_backlog_total))


def setup_django(migrate: bool = True) -> None:
    """Set Django up and apply pending migrations (serialised across processes on PostgreSQL)."""
    import django
    from django.core.management import call_command
    from django.db import connection

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    django.setup()
    if not migrate:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK_ID])
            try:
                call_command("migrate", interactive=False, verbosity=0)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK_ID])
    else:
        call_command("migrate", interactive=False, verbosity=0)
    connection.close()  # the server's threads open their own connections


def exit_with_parent(parent_pid: int, interval: float = 1.0) -> threading.Thread:
    """Shut down gracefully (SIGTERM to ourselves) once ``parent_pid`` is no longer our parent.

    An embedded broker started by a notebook kernel or a test run must not outlive it, even
    when that process is killed without cleaning up.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        log.warning("parent process %d is gone; shutting down", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="dasf-broker-parent-watch", daemon=True)
    thread.start()
    return thread


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log_level: str = "info") -> None:
    """Run the broker in the foreground until SIGINT/SIGTERM (graceful shutdown)."""
    import uvicorn
    from django.conf import settings

    setup_django(migrate=True)
    from .asgi import application  # import errors surface here, before the port is bound
    from .coalescing import CoalescingWebSocketProtocol
    from .redaction import redact_all_handlers

    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        # websockets-sansio, with a readable 1009 close and acks coalesced into fewer writes
        ws=CoalescingWebSocketProtocol,
        ws_max_size=settings.DASF_MAX_MESSAGE_SIZE,
        ws_per_message_deflate=settings.DASF_WS_COMPRESSION,
        ws_ping_interval=20.0,
        ws_ping_timeout=60.0,
        lifespan="on",
        log_level=log_level,
        timeout_graceful_shutdown=10,
        proxy_headers=True,
    )
    # uvicorn configured its loggers above, Django its own in setup_django: from here on no
    # handler prints a token (uvicorn's access lines carry the query string, ?token= included)
    redact_all_handlers()
    mode = "secure" if settings.DASF_BROKER_SECURE else "open (development)"
    layer = "redis" if settings.REDIS_URL else "in-memory"
    sock = config.bind_socket()  # exits with a clear message if the port is taken
    # BrokerProcess waits for this line: the socket is bound and listening from here on
    print(
        f"{READY_MARKER} ws://{host}:{port}/ws  mode={mode}  delivery={layer}  "
        f"data={settings.DASF_DATA_DIR}",
        flush=True,
    )
    parent = os.environ.get("DASF_EXIT_WITH_PARENT", "")
    if parent.isdigit():
        exit_with_parent(int(parent))
    uvicorn.Server(config).run(sockets=[sock])


def manage(args: list[str]) -> None:
    """Run a Django management command against the configured broker database."""
    from django.core.management import execute_from_command_line

    setup_django(migrate=not args or args[0] != "migrate")
    execute_from_command_line(["dasf-broker manage", *args])
