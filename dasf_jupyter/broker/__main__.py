"""The ``dasf-broker`` command (also ``python -m dasf_jupyter.broker``)."""

from __future__ import annotations

import argparse
import sys

from .server import DEFAULT_HOST, DEFAULT_PORT

DESCRIPTION = """\
Run the DASF message broker (Django + Channels, served by uvicorn).

  dasf-broker [serve] [options]      run the broker (migrations are applied on start)
  dasf-broker manage [--data-dir D] <command> ...
                                     run a Django management command on the broker's
                                     database (e.g. createsuperuser, or the dasf_* commands)

Defaults: 127.0.0.1:8765, SQLite in the data dir, in-memory delivery, open development mode
(anonymous may create and use topics). Environment: DATABASE_URL (PostgreSQL) and REDIS_URL
let several broker processes serve the same topics; DASF_BROKER_SECURE, DASF_DATA_DIR,
DASF_MAX_MESSAGE_SIZE, DASF_MAX_BACKLOG_BYTES (undelivered data per subscription, default
512 MiB), DASF_MAX_BACKLOG_TOTAL, DASF_PING_INTERVAL, DASF_ONLINE_WINDOW, DASF_UNSERVED_TIMEOUT,
DASF_RESPONSE_TOPIC_MAX_AGE, DASF_GC_INTERVAL, DASF_WS_COMPRESSION, DASF_REDIS_PREFIX,
DASF_SHARE_REFERENCE_REPLICAS, DJANGO_SECRET_KEY, DASF_ALLOWED_HOSTS, DASF_ALLOWED_ORIGINS,
DASF_ACCESS_RECHECK_INTERVAL.
Browsers: a websocket handshake with an Origin header is accepted only from the broker's own
origin or an --allowed-origins entry, and only under an allowed Host name.
Topic-creation quotas (0 = no limit): DASF_TOPIC_QUOTA_PER_CONNECTION (topics one websocket
may create, default 50), DASF_TOPIC_QUOTA_PER_USER (topics one user may own, default 1000),
DASF_TOPIC_QUOTA_ANONYMOUS (topics all anonymous callers together may own, default 5000;
reply topics count in the hour after their creation only);
`dasf-broker manage dasf_topic create NAME --force` takes a squatted name over.
DASF_RESPONSE_TOPIC_CLAIM_WINDOW (default 60 s): how long a topic subscribed to before its
request topic existed may still become its creator's reply topic (docs/security-model.md).
Websocket routes: /ws/<topic> (produce), /ws/<topic>/<subscription> (consume),
/ws/status-ping, and the Pulsar-style /ws/v2/producer|consumer/... aliases.
HTTP: /api/topics/ (discovery), /admin/ (Django admin).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dasf-broker",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to listen on (%(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (%(default)s)")
    parser.add_argument(
        "--data-dir",
        metavar="D",
        help="directory for the SQLite database and secret key "
        "(env DASF_DATA_DIR, default ~/.local/share/dasf-jupyter/broker)",
    )
    parser.add_argument(
        "--secure",
        action="store_true",
        default=None,
        help="require tokens and topic permissions (env DASF_BROKER_SECURE)",
    )
    parser.add_argument(
        "--max-message-size",
        metavar="BYTES",
        type=int,
        help="largest websocket message accepted (env DASF_MAX_MESSAGE_SIZE, default 64 MiB)",
    )
    parser.add_argument(
        "--allowed-origins",
        metavar="ORIGINS",
        help="comma-separated web origins (scheme://host[:port]) whose pages may open "
        "websockets here, '*' for any (env DASF_ALLOWED_ORIGINS; default: none besides the "
        "broker's own origin; clients that are not browsers are not affected)",
    )
    parser.add_argument(
        "--allowed-hosts",
        metavar="HOSTS",
        help="comma-separated host names the broker answers to (env DASF_ALLOWED_HOSTS; "
        "default: the --host name and localhost's names)",
    )
    parser.add_argument(
        "--max-backlog-total",
        metavar="BYTES",
        type=int,
        help="undelivered data the broker holds across all subscriptions; the largest "
        "backlogs are cut off first, a publish that finds no room is refused "
        "(env DASF_MAX_BACKLOG_TOTAL, default 512 MiB)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (%(default)s)",
    )
    return parser


def _manage_options(args: list[str]) -> tuple[str | None, list[str]]:
    """Split a leading ``--data-dir D`` off the management command line."""
    if args and args[0] == "--data-dir" and len(args) > 1:
        return args[1], args[2:]
    if args and args[0].startswith("--data-dir="):
        return args[0].split("=", 1)[1], args[1:]
    return None, args


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``dasf-broker``."""
    from .origins import parse_origins
    from .server import configure_environment, manage, serve

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "manage":
        data_dir, rest = _manage_options(args[1:])
        configure_environment(data_dir)
        manage(rest)
        return
    if args and args[0] == "serve":
        args = args[1:]
    options = build_parser().parse_args(args)
    if options.max_message_size is not None and options.max_message_size < 1024:
        build_parser().error("--max-message-size must be at least 1024 bytes")
    if options.max_backlog_total is not None and options.max_backlog_total < 1024:
        build_parser().error("--max-backlog-total must be at least 1024 bytes")
    if options.allowed_origins is not None:
        try:
            parse_origins(options.allowed_origins)
        except ValueError as exc:
            build_parser().error(f"--allowed-origins: {exc}")
    configure_environment(
        options.data_dir,
        options.secure,
        options.max_message_size,
        listen_host=options.host,
        allowed_origins=options.allowed_origins,
        allowed_hosts=options.allowed_hosts,
        max_backlog_total=options.max_backlog_total,
    )
    serve(options.host, options.port, options.log_level)


if __name__ == "__main__":
    main()
