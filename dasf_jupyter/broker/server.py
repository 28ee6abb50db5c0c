"""Running the broker: Django setup, migrations, and the uvicorn server."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
import time

from .config import current, prepare_data_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SETTINGS_MODULE = "dasf_jupyter.broker.settings"
# any constant works; serialises migrations of broker processes sharing one PostgreSQL
_MIGRATION_LOCK_ID = 0x64617366
READY_MARKER = "dasf-broker: listening on"

log = logging.getLogger(__name__)


def setup_django(migrate: bool = True) -> None:
    """Set Django up and apply pending migrations (serialised across processes on PostgreSQL).

    Without ``DJANGO_SETTINGS_MODULE`` the broker's own settings are configured directly (no
    environment variable is written), after its data dir was prepared.
    """
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    chosen = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not settings.configured and chosen in (None, "", SETTINGS_MODULE):
        prepare_data_dir(current())
    if not settings.configured and not chosen:
        module = importlib.import_module(SETTINGS_MODULE)
        settings.configure(
            **{name: getattr(module, name) for name in dir(module) if name.isupper()}
        )
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
    parent = current().exit_with_parent
    if parent:
        exit_with_parent(parent)
    uvicorn.Server(config).run(sockets=[sock])


def manage(args: list[str]) -> None:
    """Run a Django management command against the configured broker database."""
    from django.core.management import execute_from_command_line

    setup_django(migrate=not args or args[0] != "migrate")
    execute_from_command_line(["dasf-broker manage", *args])
