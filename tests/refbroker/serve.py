"""Launcher for the reference broker: migrate, open it to anonymous users, run daphne.

Run as ``python -m tests.refbroker.serve --port PORT`` with ``DASF_REFBROKER_DIR`` set.
"""

from __future__ import annotations

import argparse
import os

DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024


def prepare_database(anonymous_can_create: bool) -> None:
    """Create the schema and let guardian's anonymous user create (and so use) topics."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    if anonymous_can_create:
        from django.contrib.auth.models import Permission
        from guardian.shortcuts import get_anonymous_user

        # Whoever creates a topic gets can_produce/can_consume on it and on its response
        # topics, so this single global permission is enough for the token-less stack.
        perm = Permission.objects.get(
            content_type__app_label="dasf_broker", codename="add_brokertopic"
        )
        get_anonymous_user().user_permissions.add(perm)

    from django.db import connections

    connections.close_all()  # daphne's worker threads open their own connections


def run_daphne(port: int, max_message_size: int) -> None:
    """Serve the ASGI app on 127.0.0.1 with raised websocket message and frame limits."""
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(
        [
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--websocket-max-message-size",
            str(max_message_size),
            "--websocket-max-frame-size",
            str(max_message_size),
            "tests.refbroker.asgi:application",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the broker until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-message-size", type=int, default=DEFAULT_MAX_MESSAGE_SIZE)
    parser.add_argument(
        "--no-anonymous", action="store_true", help="do not let anonymous users create topics"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.refbroker.settings")
    prepare_database(anonymous_can_create=not args.no_anonymous)
    run_daphne(args.port, args.max_message_size)


if __name__ == "__main__":
    main()
