"""HTML and Markdown views of connections, remote modules/functions and remote errors.

Plain functions, attached through IPython's display formatters by the extension, so the
client package stays free of Jupyter.
"""

from __future__ import annotations

import contextlib
import html
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..client import Connection, ModuleInfo, RemoteClass, RemoteFunction, RemoteModule
from ..errors import RemoteError
from .error_view import error_html, error_parts

_TABLE = "border-collapse:collapse;text-align:left"
_CELL = (
    "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2);text-align:left;"
    "vertical-align:top"
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _summary(text: str | None) -> str:
    return (text or "").strip().split("\n")[0]


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th style='{_CELL}'>{h}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- remote functions and modules -------------------------------------------------------------


def _member_rows(module: RemoteModule) -> list[tuple[str, str, str]]:
    """``(kind, "name(signature)", summary)`` for every member of ``module``."""
    rows = []
    for name, member in sorted(module.members().items()):
        kind = "class" if isinstance(member, RemoteClass) else "function"
        rows.append((kind, f"{name}{inspect.signature(member)}", _summary(member.__doc__)))
    return rows


def remote_module_html(module: RemoteModule) -> str:
    """A heading with topic and description and a table of the members."""
    rows = [[_e(k), f"<code>{_e(s)}</code>", _e(d)] for k, s, d in _member_rows(module)]
    description = _e(module.description or "")
    return (
        f"<div><b>DASF module</b> <code>{_e(module.topic)}</code>"
        f"<div style='color:var(--jp-ui-font-color2)'>{description}</div>"
        f"{_table(['kind', 'member', 'description'], rows)}</div>"
    )


def remote_module_markdown(module: RemoteModule) -> str:
    rows = [[k, f"`{s}`", d] for k, s, d in _member_rows(module)]
    head = f"**DASF module** `{module.topic}`"
    if module.description:
        head += f" — {module.description}"
    return head + "\n\n" + _md_table(["kind", "member", "description"], rows)


def _parameter_rows(function: RemoteFunction | RemoteClass) -> list[tuple[str, str, str]]:
    properties = function.rpc_schema.get("properties") or {}
    rows = []
    for name, parameter in inspect.signature(function).parameters.items():
        annotation = parameter.annotation
        shown = getattr(annotation, "__name__", None) or str(annotation)
        if parameter.annotation is inspect.Parameter.empty:
            shown = ""
        default = "" if parameter.default is inspect.Parameter.empty else repr(parameter.default)
        description = _summary((properties.get(name) or {}).get("description"))
        rows.append((name, f"{shown}{' = ' + default if default else ''}", description))
    return rows


def remote_function_html(function: RemoteFunction | RemoteClass) -> str:
    """Signature, description and a parameter table."""
    rows = [[f"<code>{_e(n)}</code>", _e(t), _e(d)] for n, t, d in _parameter_rows(function)]
    description = _e(function.rpc_schema.get("description") or "")
    kind = "class" if isinstance(function, RemoteClass) else "function"
    return (
        f"<div><b>remote {kind}</b> <code>{_e(function.__qualname__)}"
        f"{_e(inspect.signature(function))}</code> on <code>{_e(function.topic)}</code>"
        f"<div style='color:var(--jp-ui-font-color2);white-space:pre-wrap'>{description}</div>"
        + (_table(["parameter", "type / default", "description"], rows) if rows else "")
        + "</div>"
    )


def remote_function_markdown(function: RemoteFunction | RemoteClass) -> str:
    head = f"**remote function** `{function.__qualname__}{inspect.signature(function)}`"
    description = function.rpc_schema.get("description")
    text = head + (f"\n\n{description}" if description else "")
    rows = _parameter_rows(function)
    if rows:
        text += "\n\n" + _md_table(["parameter", "type / default", "description"], rows)
    return text


# -- connections, errors, module lists --------------------------------------------------------


def connection_html(connection: Connection) -> str:
    """Broker URL and state; never the token."""
    state = "closed" if getattr(connection, "_closed", False) else "open"
    token = "with token" if connection.authenticated else "anonymous"
    return (
        f"<div><b>DASF connection</b> to <code>{_e(connection.url)}</code> "
        f"({_e(state)}, {_e(token)}, timeout {connection.timeout:g} s)</div>"
    )


def connection_markdown(connection: Connection) -> str:
    state = "closed" if getattr(connection, "_closed", False) else "open"
    return f"**DASF connection** to `{connection.url}` ({state})"


def remote_error_html(error: RemoteError) -> str:
    """One short line in the theme's error colour; the remote traceback folded away."""
    return error_html(error)


def remote_error_markdown(error: RemoteError) -> str:
    kind, first, topic = error_parts(error)
    where = f" (remote, topic `{topic}`)" if topic else " (remote)"
    return f"**{kind}**: {first}{where}"


def replicas_note(info: ModuleInfo) -> str:
    """`` · 2 replicas`` or `` · 2 subscriptions (…)`` when a topic has more than one."""
    consumers, subscriptions = info.consumers or 0, info.subscriptions or 0
    if subscriptions > 1:
        return (
            f" · {consumers} consumers in {subscriptions} subscriptions "
            f"(each call runs {subscriptions}×)"
        )
    if consumers > 1:
        return f" · {consumers} replicas sharing the calls"
    return ""


class ModuleTable:
    """The modules a broker knows; a rich table in notebooks, text elsewhere."""

    def __init__(
        self,
        modules: list[ModuleInfo],
        served: dict[str, list[str]] | None = None,
        served_descriptions: dict[str, str | None] | None = None,
    ) -> None:
        self.modules = list(modules)
        #: cell modules this kernel serves (topic → member names): known before the broker's
        #: next liveness probe has seen them
        self.served = dict(served or {})
        #: their descriptions, shown whether or not the broker has seen the module yet
        self.served_descriptions = dict(served_descriptions or {})
        known = {info.topic for info in self.modules}
        self.modules += [ModuleInfo(t, None, True) for t in self.served if t not in known]

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(topic, description, online, members)`` per module."""
        rows = []
        for info in self.modules:
            members = info.raw.get("functions", []) + info.raw.get("classes", [])
            if not members and info.api_info:
                members = [m.get("name") for m in info.api_info.get("functions", [])]
                members += [c.get("name") for c in info.api_info.get("classes", [])]
            online = {True: "yes", False: "no", None: "?"}[info.online]
            description = info.description
            if info.topic in self.served:
                online = "yes (this kernel)"
                members = members or self.served[info.topic]
                description = description or self.served_descriptions.get(info.topic)
            online += replicas_note(info)
            members_text = ", ".join(str(m) for m in members if m)
            rows.append((info.topic, _summary(description), online, members_text))
        return rows

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)

    def __repr__(self) -> str:
        rows = self.rows()
        if not rows:
            return "(no modules on this broker)"
        header = ("topic", "description", "online", "members")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
        return "\n".join([head, *lines]).rstrip()

    def _repr_html_(self) -> str:
        if not self.modules:
            return "<i>no modules on this broker</i>"
        rows = [[f"<code>{_e(t)}</code>", _e(d), _e(o), _e(m)] for t, d, o, m in self.rows()]
        return _table(["topic", "description", "online", "members"], rows)

    def _repr_markdown_(self) -> str:
        return _md_table(["topic", "description", "online", "members"], self.rows())


#: type → (html view, markdown view); registered with IPython by the extension
VIEWS: dict[type, tuple[Callable[[Any], str], Callable[[Any], str]]] = {
    RemoteModule: (remote_module_html, remote_module_markdown),
    RemoteFunction: (remote_function_html, remote_function_markdown),
    RemoteClass: (remote_function_html, remote_function_markdown),
    Connection: (connection_html, connection_markdown),
    RemoteError: (remote_error_html, remote_error_markdown),
}


def register_formatters(shell: Any) -> None:
    """Make IPython show the DASF client types with the views above."""
    formatters = shell.display_formatter.formatters
    for cls, (to_html, to_markdown) in VIEWS.items():
        formatters["text/html"].for_type(cls, to_html)
        formatters["text/markdown"].for_type(cls, to_markdown)


def unregister_formatters(shell: Any) -> None:
    """Undo :func:`register_formatters`."""
    formatters = shell.display_formatter.formatters
    for cls in VIEWS:
        for mime in ("text/html", "text/markdown"):
            with contextlib.suppress(KeyError):
                formatters[mime].pop(cls)
