"""The ``dasf-broker`` command (also ``python -m dasf_jupyter.broker``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..settings_table import SettingError, add_arguments, flag_values, help_epilog, load
from .config import BrokerSettings, install
from .server import DEFAULT_HOST, DEFAULT_PORT

DESCRIPTION = """\
Run the DASF message broker (Django + Channels, served by uvicorn).

  dasf-broker [serve] [options]      run the broker (migrations are applied on start)
  dasf-broker manage [--data-dir D] <command> ...
                                     run a Django management command on the broker's
                                     database (e.g. createsuperuser, or the dasf_* commands)

Defaults: 127.0.0.1:8765, SQLite in the data dir, in-memory delivery, open development mode
(anonymous may create and use topics). A flag wins over its environment variable; all
variables are listed below and in docs/configuration.md. DATABASE_URL (PostgreSQL) and
REDIS_URL let several broker processes serve the same topics.
Browsers: a websocket handshake with an Origin header is accepted only from the broker's own
origin or an --allowed-origins entry, and only under an allowed Host name.
`dasf-broker manage dasf_topic create NAME --force` takes a squatted topic name over.
Websocket routes: /ws/<topic> (produce), /ws/<topic>/<subscription> (consume),
/ws/status-ping, and the Pulsar-style /ws/v2/producer|consumer/... aliases.
HTTP: /api/topics/ (discovery), /admin/ (Django admin).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dasf-broker",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=help_epilog(BrokerSettings),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to listen on (%(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (%(default)s)")
    add_arguments(parser, BrokerSettings)
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


def settings_from(environ: Mapping[str, str], overrides: dict[str, Any]) -> BrokerSettings:
    """The environment's settings with the command line's choices; a given data dir is absolute."""
    if overrides.get("data_dir") is not None:
        overrides = {**overrides, "data_dir": Path(overrides["data_dir"]).expanduser().resolve()}
    return load(BrokerSettings, environ, **overrides)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``dasf-broker``: settings from the environment and flags, then serve."""
    from .server import manage, serve

    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if args and args[0] == "manage":
        data_dir, rest = _manage_options(args[1:])
        install(_checked(parser, {"data_dir": data_dir}))
        manage(rest)
        return
    if args and args[0] == "serve":
        args = args[1:]
    options = parser.parse_args(args)
    # the listening host is the default of the allowed Host names
    overrides = {**flag_values(options, BrokerSettings), "listen_host": options.host}
    install(_checked(parser, overrides))
    serve(options.host, options.port, options.log_level)


def _checked(parser: argparse.ArgumentParser, overrides: dict[str, Any]) -> BrokerSettings:
    try:
        return settings_from(os.environ, overrides)
    except SettingError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
