"""The ``%dasf`` line magic and the ``%%dasf module`` cell magic."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Float, Unicode
from traitlets.config import Configurable

from .magic_args import (
    USAGE,
    HelpShown,
    parse_call,
    parse_trust,
    parse_use,
    subcommand_parsers,
)
from .session import DasfSession


@magics_class
class DasfMagics(Magics, Configurable):
    """``%dasf <subcommand>``: connect, list, use, call and serve DASF modules."""

    broker_url = Unicode(
        "", help="broker for '%dasf connect' without URL (default: the notebook's own broker)"
    ).tag(config=True)
    token = Unicode("", help="access token for the broker (or env DASF_TOKEN)").tag(config=True)
    timeout = Float(600.0, help="seconds to wait for an answer or progress").tag(config=True)
    short_errors = Bool(
        True, help="show DASF errors as one readable line instead of a traceback"
    ).tag(config=True)

    def __init__(self, shell: Any = None, session: DasfSession | None = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self.session = session or DasfSession()
        self.parsers = subcommand_parsers()

    # -- dispatch -----------------------------------------------------------------------

    @no_var_expand  # "{...}" and "$x" in values are data, not IPython templates
    @line_cell_magic
    def dasf(self, line: str, cell: str | None = None) -> Any:
        """Work with DASF modules; ``%dasf help`` lists the subcommands."""
        command, _, rest = line.strip().partition(" ")
        if cell is not None:
            if command != "module":
                raise UsageError(f"%%dasf supports only 'module' as a cell magic\n\n{USAGE}")
            return self._run(command, rest, cell)
        if command in ("", "help", "-h", "--help"):
            print(USAGE)
            return None
        if command == "module":
            raise UsageError("'module' is a cell magic: %%dasf module TOPIC, then the code")
        return self._run(command, rest, None)

    def _run(self, command: str, rest: str, cell: str | None) -> Any:
        if command == "call":
            return self.call(rest)
        parser = self.parsers.get(command)
        if parser is None:
            raise UsageError(f"unknown subcommand {command!r}\n\n{USAGE}")
        try:
            words = shlex.split(rest)
        except ValueError as exc:
            raise UsageError(f"cannot parse {rest!r}: {exc}") from None
        try:
            args = parser.parse_args(words)
        except HelpShown:
            print(parser.format_help())
            return None
        handler = getattr(self, f"cmd_{command}")
        return handler(args, cell) if command == "module" else handler(args)

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    # -- subcommands --------------------------------------------------------------------

    def cmd_connect(self, args: Any) -> None:
        timeout = args.timeout if args.timeout is not None else self.timeout
        if timeout <= 0:
            raise UsageError("--timeout must be a positive number of seconds")
        url = args.url or self.broker_url or None
        security = {"trust": parse_trust(args.trust), "encrypt": args.encrypt}
        if args.identity:
            security["identity"] = args.identity
        location = self.session.connect(url, args.token or self.token or None, timeout, **security)
        where = {
            "given": "the broker you named",
            "DASF_BROKER_URL": "the broker named by $DASF_BROKER_URL",
            "embedded": "the notebook's embedded broker (started by this kernel)",
            "jupyter-server": "the broker of the Jupyter server",
        }.get(location.source, "")
        print(f"connected to {location.url}" + (f" — {where}" if where else ""))

    def cmd_disconnect(self, args: Any) -> None:
        print("disconnected" if self.session.disconnect() else "not connected")

    def cmd_status(self, args: Any) -> None:
        status = self.session.status()
        if status["connected"]:
            print(f"connected to {status['url']} ({status['source']}; token {status['token']})")
        else:
            print("not connected (%dasf connect [URL])")
        if status["embedded_broker"]:
            print(f"embedded broker: {status['embedded_broker']} (pid {status['embedded_pid']})")
            print(f"embedded broker data and log: {self.session.embedded.data_dir}")
        for topic, running in status["served"].items():
            print(f"serving {topic!r} from this kernel: {'running' if running else 'stopped'}")

    def cmd_modules(self, args: Any) -> Any:
        return self.session.modules()

    def cmd_served(self, args: Any) -> None:
        if not self.session.served:
            print("this kernel serves no cell modules")
        for topic, served in self.session.served.items():
            state = "running" if served.running else "stopped"
            print(f"{topic}: {', '.join(served.cell.member_names)} ({state})")

    def cmd_use(self, args: Any) -> None:
        name = parse_use(args.topic, args.as_name)
        module = self.session.module(args.topic)
        self.user_ns[name] = module
        members = ", ".join(sorted(module.members()))
        print(f"{name} = module {args.topic!r}: {members}")

    def cmd_form(self, args: Any) -> Any:
        from .form_runner import module_form

        topic, _, member = args.target.partition(".")
        connection = self.session.require()
        try:
            form = module_form(connection, topic, member or None, self.user_ns, self.timeout)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        # returned, not displayed: the cell shows it, and ``form = %dasf form …`` keeps it
        return form

    def call(self, rest: str) -> Any:
        topic, member, kwargs = parse_call(rest, self.user_ns)
        module = self.session.module(topic)
        try:
            function = module[member]
        except KeyError:
            members = ", ".join(sorted(module.members()))
            raise UsageError(
                f"module {topic!r} has no function {member!r} (has: {members})"
            ) from None
        if not hasattr(function, "submit"):
            raise UsageError(f"{topic}.{member} is a class; use %dasf form {topic}.{member}")
        return function(**kwargs)

    def cmd_stop(self, args: Any) -> None:
        if args.all:
            stopped = self.session.stop_all()
            print(f"stopped: {', '.join(stopped) or 'nothing was served'}")
            return
        if not args.topics:
            raise UsageError("usage: %dasf stop TOPIC [TOPIC ...] | --all")
        for topic in args.topics:
            if self.session.stop(topic):
                print(f"stopped serving {topic!r}")
            else:
                print(f"this kernel does not serve {topic!r}")

    def cmd_export(self, args: Any) -> None:
        path = self.session.export(args.topic, args.path)
        print(f"wrote {path}; serve it with: dasf serve {path} --topic {args.topic} --url URL")

    def cmd_module(self, args: Any, cell: str | None) -> None:
        if not cell or not cell.strip():
            raise UsageError("%%dasf module TOPIC needs the module's code in the cell body")
        if self.session.connection is None:
            self.cmd_connect(self.parsers["connect"].parse_args([]))
        replaced = args.topic in self.session.served
        served = self.session.serve_cell(
            args.topic,
            cell,
            self.user_ns,
            args.description,
            traceback=args.traceback,
            security=args.security,
            key_path=args.key,
            allow_list=args.allow_list,
            require_auth=args.allow_list is not None,
            subscription=args.subscription,
        )
        verb = "re-serving" if replaced else "serving"
        names = ", ".join(served.cell.member_names)
        print(f"{verb} {args.topic!r} from this kernel: {names}")
        if args.security != "plain":
            print(f"{args.security}, key fingerprint {served.fingerprint}")


def complete_dasf(_shell: Any, event: Any) -> list[str]:
    """Tab completion of subcommands and, after ``use``/``form``/``stop``, known topics."""
    words = event.line.split()
    commands = [*subcommand_parsers(), "call", "help"]
    if len(words) <= 1 or (len(words) == 2 and not event.line.endswith(" ")):
        return sorted(commands)
    return []


__all__ = ["DasfMagics", "complete_dasf"]
