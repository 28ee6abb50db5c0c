"""Settings tables: one typed declaration per setting, feeding code, ``--help`` and the docs.

A component (broker, module, client, Jupyter) declares its settings as the fields of a frozen
dataclass, each made with :func:`setting` (environment variable, parser, default, help, CLI
flag). From that one declaration come

* the values: :func:`load` reads a mapping (the environment, passed in by the edge that owns
  the process) and returns the dataclass, with clear :class:`SettingError` for bad values;
* the command line: :func:`add_arguments` adds the flags, :func:`flag_values` collects them,
  :func:`help_epilog` lists every variable with its default for ``--help``;
* the documentation: :func:`markdown` renders docs/configuration.md (``settings_doc``).

Nothing here reads ``os.environ``: whoever calls :func:`load` decides where values come from.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import DasfError

T = TypeVar("T")
S = TypeVar("S")

_KEY = "dasf_setting"


class SettingError(DasfError, ValueError):
    """A setting has a value its parser refuses; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """One row of a settings table."""

    #: attribute of the component's settings object
    name: str
    #: environment variable that sets it
    env: str
    #: turns the variable's (stripped, non-empty) text into the value; ValueError if bad
    parse: Callable[[str], Any]
    default: Any
    help: str
    #: command-line flag of the component's CLI, if it has one
    flag: str | None = None
    metavar: str | None = None
    #: the default as documented where its value is not telling (``64 MiB``, a path)
    shown_default: str | None = None
    #: set by dasf-jupyter's own tools for their child processes, not meant for users
    internal: bool = False

    def read(self, environ: Mapping[str, str]) -> Any:
        """The value in ``environ``, or the default when unset or blank."""
        raw = environ.get(self.env)
        if raw is None or not raw.strip():
            return self.default
        return self.convert(raw, self.env)

    def convert(self, raw: str, source: str) -> Any:
        """``raw`` parsed; :class:`SettingError` naming ``source`` if it is not valid."""
        try:
            return self.parse(raw.strip())
        except ValueError as exc:
            raise SettingError(f"{source} {exc}, got {raw!r}") from None

    def default_text(self) -> str:
        """The default as shown in ``--help`` and the docs."""
        if self.shown_default is not None:
            return self.shown_default
        if isinstance(self.default, bool):
            return "1" if self.default else "0"
        if self.default in ("", None, ()):
            return "(unset)"
        if isinstance(self.default, float) and self.default.is_integer():
            return str(int(self.default))
        return str(self.default)


def setting(
    env: str,
    parse: Callable[[str], T],
    default: T,
    help: str,  # noqa: A002 - argparse's name for it
    *,
    flag: str | None = None,
    metavar: str | None = None,
    shown_default: str | None = None,
    internal: bool = False,
) -> T:
    """A dataclass field declared as a setting (its name is the field's)."""
    row = Setting("", env, parse, default, help, flag, metavar, shown_default, internal)
    return field(default=default, metadata={_KEY: row})


def table(settings_class: type) -> tuple[Setting, ...]:
    """The settings declared by a settings dataclass, in declaration order."""
    rows = []
    for item in dataclasses.fields(settings_class):
        row = item.metadata.get(_KEY)
        if row is None:
            raise TypeError(f"{settings_class.__name__}.{item.name} is not declared by setting()")
        rows.append(dataclasses.replace(row, name=item.name))
    return tuple(rows)


def load(settings_class: type[S], environ: Mapping[str, str], **overrides: Any) -> S:
    """The settings in ``environ``; ``overrides`` (e.g. command-line flags) win unless None."""
    values = {row.name: row.read(environ) for row in table(settings_class)}
    unknown = set(overrides) - set(values)
    if unknown:
        raise TypeError(f"{settings_class.__name__} has no setting {sorted(unknown)}")
    values.update({name: value for name, value in overrides.items() if value is not None})
    return settings_class(**values)


def read_one(settings_class: type, name: str, environ: Mapping[str, str]) -> Any:
    """One setting from ``environ``, without parsing the others."""
    for row in table(settings_class):
        if row.name == name:
            return row.read(environ)
    raise TypeError(f"{settings_class.__name__} has no setting {name!r}")


# --- parsers ---------------------------------------------------------------------------------
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def boolean(text: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("must be 1 or 0 (true/false, yes/no, on/off)")


def text(value: str) -> str:
    """Any text."""
    return value


def path(value: str) -> Path:
    """A path; ``~`` is expanded."""
    return Path(value).expanduser()


def integer(minimum: int | None = None, unit: str = "") -> Callable[[str], int]:
    """A whole number (``1e6`` is accepted when whole), at least ``minimum`` (of ``unit``)."""

    def parse(value: str) -> int:
        try:
            number = float(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not number.is_integer():
            raise ValueError("must be a whole number")
        if minimum is not None and number < minimum:
            raise ValueError(f"must be at least {minimum}{' ' + unit if unit else ''}")
        return int(number)

    return parse


def number(minimum: float | None = None, *, positive: bool = False) -> Callable[[str], float]:
    """A number of seconds or the like, at least ``minimum`` (or above zero if ``positive``)."""

    def parse(value: str) -> float:
        try:
            result = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(result):
            raise ValueError("must be a finite number")
        if positive and not result > 0:
            raise ValueError("must be positive")
        if minimum is not None and result < minimum:
            raise ValueError(f"must be at least {minimum:g}")
        return result

    return parse


def choice(*allowed: str) -> Callable[[str], str]:
    """One of ``allowed`` (compared in lower case)."""

    def parse(value: str) -> str:
        if value.lower() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value.lower()

    return parse


# --- command line ----------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser, settings_class: type) -> None:
    """Add a flag for each setting that declares one; unset flags leave the environment's value."""
    for row in table(settings_class):
        if row.flag is None:
            continue
        default = row.default_text()
        default = "unset" if default == "(unset)" else f"default {default}"
        help_text = f"{row.help} (env {row.env}, {default})"
        help_text = help_text.replace("%", "%%")
        if isinstance(row.default, bool):
            parser.add_argument(
                row.flag,
                dest=row.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        parser.add_argument(
            row.flag,
            dest=row.name,
            metavar=row.metavar,
            type=_flag_parser(row),
            default=None,
            help=help_text,
        )


def _flag_parser(row: Setting) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return row.convert(raw, row.flag or row.env)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def flag_values(namespace: argparse.Namespace, settings_class: type) -> dict[str, Any]:
    """The settings given as flags on the command line (for :func:`load`'s overrides)."""
    return {
        row.name: getattr(namespace, row.name)
        for row in table(settings_class)
        if row.flag is not None and getattr(namespace, row.name, None) is not None
    }


def help_epilog(settings_class: type, title: str = "Environment") -> str:
    """Every variable with its default, for the end of ``--help``."""
    lines = [f"{title} (docs/configuration.md):"]
    for row in table(settings_class):
        if row.internal:
            continue
        flag = f", {row.flag}" if row.flag else ""
        default = row.default_text()
        default = default if default.startswith("(") else f"(default {default})"
        lines.append(f"  {row.env}{flag} {default}")
        indent = " " * 6
        lines += textwrap.wrap(
            row.help, 88, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
        )
    return "\n".join(lines)


# --- documentation ---------------------------------------------------------------------------
def markdown(settings_class: type, heading: str, intro: str) -> str:
    """A section of docs/configuration.md: one table row per setting."""
    lines = [f"## {heading}", "", intro, ""]
    lines += ["| Variable | Flag | Default | Meaning |", "|---|---|---|---|"]
    for row in table(settings_class):
        flag = f"`{row.flag}`" if row.flag else ""
        meaning = row.help + (" *(set by dasf-jupyter itself)*" if row.internal else "")
        cells = (f"`{row.env}`", flag, _cell(row.default_text()), _cell(meaning))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
