"""The ``dasf`` command: serve a module, show its schema, call it, list modules."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .backend.config import ModuleSettings
from .errors import CodecError, DasfError, InvalidName
from .peer_config import ClientSettings
from .settings_table import SettingError, add_arguments, flag_values, help_epilog, load

EXIT_OK, EXIT_REMOTE, EXIT_USAGE = 0, 1, 2


class UsageError(DasfError):
    """The command line cannot be carried out as given (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dasf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve a Python file or module as a backend module",
        epilog=help_epilog(ModuleSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("target", help="file.py or dotted module name")
    serve.add_argument("--topic", "-t", required=True, help="the request topic to serve")
    serve.add_argument("--url", required=True, help="broker websocket URL, e.g. ws://host/ws")
    add_arguments(serve, ModuleSettings)  # --token, --redis
    serve.add_argument("--workers", type=int, default=4, help="parallel calls (default 4)")
    serve.add_argument("--queue-size", type=int, default=None, help="calls waiting at most")
    serve.add_argument("--traceback", action="store_true", help="send tracebacks with errors")
    serve.add_argument(
        "--subscription",
        default=None,
        metavar="NAME",
        help="subscription name (default backend-module): replicas with the same name share "
        "the calls; each different name receives and runs every call",
    )
    serve.add_argument(
        "--security",
        choices=["plain", "encrypted-optional", "encrypted-required"],
        default="plain",
        help="end-to-end encryption of requests and replies (default plain)",
    )
    serve.add_argument("--key", default=None, help="module key file (created if missing)")
    serve.add_argument(
        "--allow-list",
        default=None,
        metavar="FILE",
        help="user public keys allowed to call (one `dasf-ed25519 KEY [name]` per line); "
        "requests must then be signed",
    )

    # parsed by security.cli.keygen_main; listed here for `dasf --help`
    sub.add_parser(
        "keygen", help="create an identity key (or a module key), print it", add_help=False
    )

    schema = sub.add_parser("schema", help="print the api_info JSON of a file or module")
    schema.add_argument("target", help="file.py or dotted module name")
    schema.add_argument("--topic", "-t", default=None, help="topic name to put in the schema")

    call = sub.add_parser(
        "call",
        help="call a function of a served module, print the result",
        epilog=help_epilog(ClientSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument("url", help="broker websocket URL")
    call.add_argument("topic", help="the module's topic")
    call.add_argument("func", help="function name, or Class.method")
    call.add_argument("--json", default="{}", help="arguments as a JSON object")
    call.add_argument("--init", default="{}", help="constructor arguments for Class.method")
    add_arguments(call, ClientSettings)  # --token
    call.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    call.add_argument("--raw", action="store_true", help="print the result's wire JSON")
    call.add_argument("--identity", help="identity key (from `dasf keygen`) to sign with")
    call.add_argument("--trust", metavar="FINGERPRINT", help="expected module key (SHA256:...)")

    modules = sub.add_parser(
        "modules",
        help="list the modules a broker knows",
        epilog=help_epilog(ClientSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    modules.add_argument("url", help="broker websocket URL")
    add_arguments(modules, ClientSettings)  # --token
    return parser


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object like '{{\"a\": 1}}'")
    return value


def _load_module(target: str, topic: str, **options: Any) -> Any:
    from .backend import BackendModule

    try:
        return BackendModule.from_path(target, topic, **options)
    except (ImportError, OSError, SyntaxError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot load {target!r}: {exc}") from None


def _module_settings(args: argparse.Namespace) -> ModuleSettings:
    """The environment's module settings with the command line's (this CLI is the edge)."""
    return load(ModuleSettings, os.environ, **flag_values(args, ModuleSettings))


def _client_settings(args: argparse.Namespace) -> ClientSettings:
    """The environment's client settings with the command line's."""
    return load(ClientSettings, os.environ, **flag_values(args, ClientSettings))


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _module_settings(args)
    module = _load_module(
        args.target,
        args.topic,
        max_workers=args.workers,
        queue_size=args.queue_size,
        send_traceback=args.traceback,
        subscription=_subscription(args.subscription),
        security=args.security,
        key_path=args.key,
        allow_list=args.allow_list,
        require_auth=args.allow_list is not None,
        settings=settings,
    )
    print(f"serving {args.target} on topic {args.topic!r} at {args.url}", file=sys.stderr)
    info = module.security.info()
    if info.fingerprint:
        print(f"security {info.mode.value}, key fingerprint {info.fingerprint}", file=sys.stderr)
    module.serve(args.url, settings.token or None)
    return EXIT_OK


def _subscription(name: str | None) -> str | None:
    from .transport import check_subscription

    if name is None:
        return None
    try:
        return check_subscription(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_schema(args: argparse.Namespace) -> int:
    topic = args.topic or _default_topic(args.target)
    print(json.dumps(_load_module(args.target, topic).api_info(), indent=2))
    return EXIT_OK


def _default_topic(target: str) -> str:
    stem = os.path.splitext(os.path.basename(target))[0] if target.endswith(".py") else target
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in stem) or "module"


def cmd_call(args: argparse.Namespace) -> int:
    from .client import connect

    arguments = _json_object(args.json, "--json")
    init = _json_object(args.init, "--init")
    trust = {args.topic: args.trust} if args.trust else None
    settings = _client_settings(args)
    with connect(
        args.url,
        settings.token or None,
        timeout=args.timeout,
        identity=args.identity,
        trust=trust,
        settings=settings,
    ) as conn:
        remote = conn.module(args.topic)
        function = _find_function(remote, args.func, init)
        try:
            request = function.request(**arguments)
        except (TypeError, CodecError) as exc:  # arguments that do not fit: the user's to fix
            raise UsageError(str(exc)) from None
        if args.raw:
            print(json.dumps(conn.call(args.topic, request, timeout=args.timeout), indent=2))
            return EXIT_OK
        print(_render(function(**arguments)))
    return EXIT_OK


def _find_function(remote: Any, name: str, init: dict[str, Any]) -> Any:
    from .client import RemoteClass

    owner, _, method = name.partition(".")
    available = ", ".join(sorted(remote.members()))
    try:
        member = remote[owner]
    except KeyError:
        message = f"topic {remote.topic!r} has no {owner!r} (available: {available})"
        raise UsageError(message) from None
    if isinstance(member, RemoteClass):
        if not method or method not in member.methods:
            raise UsageError(f"name a method of {owner}: {', '.join(member.methods)}")
        try:
            return getattr(member(**init), method)
        except TypeError as exc:
            raise UsageError(str(exc)) from None
    if method:
        raise UsageError(f"{owner!r} is a function, not a class")
    return member


def _render(value: Any) -> str:
    """JSON for plain values; repr for xarray, pandas and numpy objects."""
    try:
        return json.dumps(value, indent=2, allow_nan=True)
    except (TypeError, ValueError):
        return repr(value)


def cmd_modules(args: argparse.Namespace) -> int:
    from .client import connect

    settings = _client_settings(args)
    with connect(args.url, settings.token or None, settings=settings) as conn:
        infos = conn.modules()
    if not infos:
        print("no modules")
        return EXIT_OK
    width = max(len("TOPIC"), *(len(i.topic) for i in infos))
    print(f"{'TOPIC':<{width}}  {'ONLINE':<7} {'CONSUMERS':<10} {'SUBS':<5} DESCRIPTION")
    for info in infos:
        online = {True: "yes", False: "no", None: "?"}[info.online]
        consumers = "?" if info.consumers is None else str(info.consumers)
        subs = "?" if info.subscriptions is None else str(info.subscriptions)
        summary = (info.description or "").strip().split("\n")[0][:80]
        print(f"{info.topic:<{width}}  {online:<7} {consumers:<10} {subs:<5} {summary}")
    return EXIT_OK


_COMMANDS = {"serve": cmd_serve, "schema": cmd_schema, "call": cmd_call, "modules": cmd_modules}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dasf``; returns the exit code (0 ok, 1 remote error, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["keygen"]:
        from .security.cli import keygen_main

        return keygen_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (UsageError, InvalidName, SettingError) as exc:  # DasfErrors: caught first
        print(f"dasf {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DasfError as exc:
        print(f"dasf {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    except ValueError as exc:  # a malformed URL or topic name
        print(f"dasf {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
