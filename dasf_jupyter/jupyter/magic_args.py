"""Parsing ``%dasf`` lines: subcommand parsers that raise UsageError, ``key=value`` values."""

from __future__ import annotations

import argparse
import ast
from typing import Any, NoReturn

from IPython.core.error import UsageError

from ..errors import DasfError

USAGE = """\
%dasf connect [URL] [--token T] [--timeout S]   connect (no URL: the notebook's broker)
      [--trust TOPIC=SHA256:FP ...] [--identity PATH] [--encrypt auto|always|required]
%dasf disconnect | status | modules | served
%dasf use TOPIC [as NAME]                       bind a remote module to a variable
%dasf form TOPIC[.FUNCTION]                     a form to call a function
%dasf call TOPIC.FUNCTION key=value ...         call; values are literals or variable names
%dasf stop TOPIC | --all                        stop serving cell modules
%dasf export TOPIC PATH.py                      write a served cell as a module file
%%dasf module TOPIC [--description D]           serve the functions/classes of this cell
      [--security plain|encrypted-optional|encrypted-required] [--key PATH]
      [--allow-list FILE] [--traceback [own|all|off]]
%dasf help                                      this text"""


class HelpShown(DasfError):  # noqa: N818 - a control-flow signal, not an error
    """``--help`` was asked for and printed; the magic returns quietly."""


class MagicArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that reports errors as IPython UsageError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n\nusage: {self.format_usage().partition(': ')[2].strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(message or "invalid arguments")
        raise HelpShown


def subcommand_parsers() -> dict[str, MagicArgumentParser]:
    """One parser per line subcommand (``call`` is parsed by :func:`split_assignments`)."""

    def parser(name: str, description: str) -> MagicArgumentParser:
        return MagicArgumentParser(prog=f"%dasf {name}", description=description, add_help=True)

    parsers = {}
    p = parsers["connect"] = parser("connect", "Connect to a DASF broker.")
    p.add_argument("url", nargs="?", help="ws://host:port/ws (default: the notebook's broker)")
    p.add_argument(
        "--token", help="access token (better: %%config DasfMagics.token or DASF_TOKEN)"
    )
    p.add_argument("--timeout", type=float, help="seconds to wait for answers")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="TOPIC=FINGERPRINT",
        help="the module key fingerprint (SHA256:...) to expect from TOPIC; repeatable",
    )
    p.add_argument("--identity", help="identity key (from `dasf keygen`) to sign requests")
    p.add_argument(
        "--encrypt",
        choices=["auto", "always", "required"],
        default="auto",
        help="auto: seal requests to modules that offer a key; always/required: refuse others",
    )
    parsers["disconnect"] = parser("disconnect", "Close the connection.")
    parsers["status"] = parser("status", "Show the connection and the served cell modules.")
    parsers["modules"] = parser("modules", "List the modules the broker knows.")
    parsers["served"] = parser("served", "List the cell modules this kernel serves.")
    p = parsers["use"] = parser("use", "Bind a remote module to a variable.")
    p.add_argument("topic")
    p.add_argument("as_name", nargs="*", metavar="as NAME")
    p = parsers["form"] = parser("form", "Show a form for a function, class or whole module.")
    p.add_argument("target", metavar="TOPIC[.MEMBER[.METHOD]]")
    p = parsers["stop"] = parser("stop", "Stop serving cell modules.")
    p.add_argument("topics", nargs="*", metavar="TOPIC")
    p.add_argument("--all", action="store_true", help="stop every cell module of this kernel")
    p = parsers["export"] = parser("export", "Write a served cell module to a file.")
    p.add_argument("topic")
    p.add_argument("path")
    p = parsers["module"] = parser("module", "Serve this cell's functions and classes.")
    p.add_argument("topic")
    p.add_argument("--description", "-d", help="module description (default: cell docstring)")
    p.add_argument(
        "--security",
        choices=["plain", "encrypted-optional", "encrypted-required"],
        default="plain",
        help="end-to-end encryption of this module's requests and replies",
    )
    p.add_argument("--key", help="module key file (default: per-user key of the topic)")
    p.add_argument(
        "--allow-list", metavar="FILE", help="public keys allowed to call (signed requests only)"
    )
    p.add_argument(
        "--traceback",
        nargs="?",
        const="all",
        default="own",
        choices=["own", "all", "off"],
        help="who gets the traceback of an error: this user's kernels (own, the default), "
        "every caller (all; --traceback alone) or nobody (off)",
    )
    p.add_argument(
        "--subscription",
        metavar="NAME",
        help="broker subscription (default backend-module, shared with other replicas)",
    )
    return parsers


def parse_trust(items: list[str]) -> dict[str, str]:
    """``["topic=SHA256:abc"]`` → ``{"topic": "SHA256:abc"}``; UsageError if malformed."""
    trust: dict[str, str] = {}
    for item in items:
        topic, eq, fingerprint = item.partition("=")
        if not eq or not topic or not fingerprint.startswith("SHA256:"):
            raise UsageError(
                f"--trust expects TOPIC=SHA256:FINGERPRINT, got {item!r} (the module's "
                "fingerprint is printed by `dasf serve` and in its api_info)"
            )
        trust[topic] = fingerprint
    return trust


def split_target(text: str) -> tuple[str, str]:
    """``"topic.func"`` → ``("topic", "func")``; topics never contain dots."""
    topic, dot, member = text.partition(".")
    if not topic or not dot or not member:
        raise UsageError(f"expected TOPIC.FUNCTION, got {text!r}\n\nusage: {USAGE_CALL}")
    return topic, member


USAGE_CALL = "%dasf call TOPIC.FUNCTION [name=value ...]"

_OPEN, _CLOSE = "([{", ")]}"


def split_words(text: str) -> list[str]:
    """Split at whitespace outside quotes and brackets (``d={"a": 1} s='x y'`` → 2 words)."""
    words, current, depth, quote, escaped = [], [], 0, "", False
    for char in text:
        if quote:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char.isspace() and depth <= 0:
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(char)
    if quote or depth > 0:
        raise UsageError(f"unbalanced quotes or brackets in {text!r}")
    if current:
        words.append("".join(current))
    return words


def split_assignments(text: str) -> list[tuple[str, str]]:
    """``"a=1 b='x y'"`` → ``[("a", "1"), ("b", "'x y'")]``; UsageError on anything else."""
    pairs = []
    for word in split_words(text):
        name, eq, value = word.rstrip(",").partition("=")
        if not eq or not name.isidentifier() or not value:
            raise UsageError(
                f"expected name=value, got {word!r}\n\nusage: {USAGE_CALL}\n"
                "values are Python literals (1, 2.5, 'text', [1, 2], {'a': 1}, None) or names "
                "of notebook variables"
            )
        pairs.append((name, value))
    names = [n for n, _ in pairs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"argument(s) given twice: {', '.join(duplicates)}")
    return pairs


def resolve_value(text: str, namespace: dict[str, Any]) -> Any:
    """A Python literal, or a (dotted) variable of the notebook; never evaluates code."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    head, *attributes = text.split(".")
    if head.isidentifier() and all(a.isidentifier() for a in attributes):
        if head not in namespace:
            raise UsageError(f"{head!r} is neither a Python literal nor a notebook variable")
        value = namespace[head]
        for attribute in attributes:
            try:
                value = getattr(value, attribute)
            except AttributeError:
                raise UsageError(f"{text!r}: no attribute {attribute!r}") from None
        return value
    raise UsageError(
        f"{text!r} is neither a Python literal nor a variable name; expressions are not "
        "evaluated — compute the value in a variable first"
    )


def parse_call(line: str, namespace: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``"topic.func a=1 b=x"`` → ``(topic, func, {"a": 1, "b": <x>})``."""
    words = line.strip().split(None, 1)
    if not words:
        raise UsageError(f"%dasf call needs a target\n\nusage: {USAGE_CALL}")
    topic, member = split_target(words[0])
    rest = words[1] if len(words) > 1 else ""
    kwargs = {name: resolve_value(value, namespace) for name, value in split_assignments(rest)}
    return topic, member, kwargs


def parse_use(topic: str, as_name: list[str]) -> str:
    """The variable name of ``%dasf use TOPIC [as NAME]`` (default: the topic made valid)."""
    if not as_name:
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in topic)
        return name if name.isidentifier() else f"m_{name}"
    if len(as_name) != 2 or as_name[0] != "as" or not as_name[1].isidentifier():
        raise UsageError("expected: %dasf use TOPIC [as NAME]  (NAME a valid variable name)")
    return as_name[1]
