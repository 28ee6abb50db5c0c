"""How an error looks in a notebook: one short line, the remote traceback folded underneath.

Used by forms (their message area) and by the kernel's exception handler for ``%dasf call``
and plain calls, so an error looks the same wherever it happens. Colours are JupyterLab theme
variables: readable in light and dark themes.
"""

from __future__ import annotations

import html
import traceback
from typing import Any

from ..errors import DasfError, RemoteError

_MAX_LINE = 300
ERROR_COLOUR = "var(--jp-error-color1)"
MUTED_COLOUR = "var(--jp-ui-font-color2)"
_PRE = (
    "margin:4px 0 0 0;padding:6px;overflow-x:auto;font-size:85%;"
    "background:var(--jp-layout-color2);color:var(--jp-content-font-color1)"
)


def _first_line(text: str) -> tuple[str, bool]:
    """The first line of ``text`` cut to a readable length, and whether anything was left out."""
    lines = text.strip().splitlines() or [""]
    first = lines[0]
    cut = len(first) > _MAX_LINE
    if cut:
        first = first[:_MAX_LINE] + "…"
    return first, cut or len(lines) > 1


def _remote_message(error: RemoteError) -> str:
    """The message without the ``(topic '…')`` suffix the client adds (the topic is shown once)."""
    suffix = f" (topic {error.topic!r})" if error.topic else ""
    text = error.message
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def error_parts(exc: BaseException) -> tuple[str, str, str | None]:
    """``(kind, first line, topic)`` of an error."""
    if isinstance(exc, RemoteError):
        first, _ = _first_line(_remote_message(exc))
        return exc.exc_type or "RemoteError", first, exc.topic
    first, _ = _first_line(str(exc))
    return type(exc).__name__, first, None


def short_message(exc: BaseException) -> str:
    """One line: ``ValueError: text (remote, topic demo)``."""
    kind, first, topic = error_parts(exc)
    text = f"{kind}: {first}" if first else kind
    if isinstance(exc, RemoteError):
        text += f" (remote, topic {topic})" if topic else " (remote)"
    return text


def error_details(exc: BaseException) -> tuple[str, str] | None:
    """``(summary, text)`` of what the short line leaves out, or ``None`` if nothing.

    A remote error's details are the module's own traceback (or its whole message when that
    is longer than one line); a local DASF error (timeout, no module) needs none; any other
    exception is a bug worth its local traceback.
    """
    if isinstance(exc, RemoteError):
        if exc.traceback:
            return "remote traceback", exc.traceback.rstrip()
        message = _remote_message(exc)
        _, left_out = _first_line(message)
        return ("full message", message.strip()) if left_out else None
    if isinstance(exc, DasfError):
        message = str(exc)
        _, left_out = _first_line(message)
        return ("full message", message.strip()) if left_out else None
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "traceback", "".join(lines).rstrip()


def error_html(exc: BaseException) -> str:
    """The short line in the theme's error colour, details folded in a ``<details>``."""
    kind, first, topic = error_parts(exc)
    where = ""
    if isinstance(exc, RemoteError):
        topic_text = f" on <code>{html.escape(topic)}</code>" if topic else ""
        where = f' <span style="color:{MUTED_COLOUR}">(remote{topic_text})</span>'
    text = (
        f'<div class="dasf-error" style="color:{ERROR_COLOUR}">'
        f"<b>✖ {html.escape(kind)}</b>{': ' + html.escape(first) if first else ''}{where}</div>"
    )
    details = error_details(exc)
    if details is not None:
        summary, body = details
        text += (
            f'<details class="dasf-error-details"><summary style="color:{MUTED_COLOUR};'
            f'cursor:pointer">{html.escape(summary)}</summary>'
            f'<pre style="{_PRE}">{html.escape(body)}</pre></details>'
        )
    return text


def error_bundle(exc: BaseException) -> dict[str, Any]:
    """A display bundle: the HTML view and the one line as plain text."""
    plain = short_message(exc)
    details = error_details(exc)
    if details is not None and isinstance(exc, RemoteError):
        plain += f"\n\n{details[0]}:\n{details[1]}"
    return {"text/html": error_html(exc), "text/plain": plain}
