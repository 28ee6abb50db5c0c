"""Turn a call's result or error into Output-widget outputs (no ``with output:`` needed)."""

from __future__ import annotations

import base64
import html
import io
import traceback
from typing import Any

from ...errors import RemoteError

_MAX_SHORT = 300


def mime_bundle(obj: Any) -> dict[str, Any]:
    """The rich representations of ``obj``, as IPython would display them in a notebook.

    A terminal IPython shell formats only ``text/plain``: the object's own ``_repr_html_``
    and ``_repr_markdown_`` fill in what the shell's formatters left out.
    """
    data: dict[str, Any] = {"text/plain": repr(obj)}
    for mime, method in (("text/html", "_repr_html_"), ("text/markdown", "_repr_markdown_")):
        render = getattr(obj, method, None)
        if callable(render):
            try:
                text = render()
            except Exception:  # a broken repr must not hide the result itself
                continue
            if text:
                data[mime] = text
    try:
        from IPython.core.interactiveshell import InteractiveShell

        if InteractiveShell.initialized():
            shell_data, _metadata = InteractiveShell.instance().display_formatter.format(obj)
            data.update(shell_data)
    except ImportError:
        pass
    return data


def display_output(data: dict[str, Any]) -> dict[str, Any]:
    """One ``display_data`` output entry."""
    return {"output_type": "display_data", "data": data, "metadata": {}}


def quick_plot_png(obj: Any) -> bytes | None:
    """A PNG line plot (1-D) or image (2-D) of numeric array data, if matplotlib is installed."""
    try:
        import numpy as np
        from matplotlib.figure import Figure  # no pyplot: safe off the main thread
    except ImportError:
        return None
    values = getattr(obj, "values", obj)
    if not isinstance(values, np.ndarray) or values.ndim not in (1, 2):
        return None
    if values.dtype.kind not in "iuf" or values.size == 0:
        return None
    figure = Figure(figsize=(5, 3))
    axes = figure.subplots()
    if values.ndim == 1:
        axes.plot(values)
    else:
        figure.colorbar(axes.imshow(values, aspect="auto", origin="lower"), ax=axes)
    axes.set_title(str(getattr(obj, "name", None) or ""))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def result_outputs(result: Any) -> tuple[dict[str, Any], ...]:
    """Outputs showing ``result`` richly, plus a quick plot for 1-D/2-D numeric data."""
    outputs = [display_output(mime_bundle(result))]
    try:
        png = quick_plot_png(result)
    except Exception:  # plotting is a bonus; never let it hide the result
        png = None
    if png:
        encoded = base64.b64encode(png).decode("ascii")
        outputs.append(display_output({"image/png": encoded, "text/plain": "<plot>"}))
    return tuple(outputs)


def short_message(exc: BaseException) -> str:
    """The first line of an error, prefixed with its type, at most a few hundred characters."""
    if isinstance(exc, RemoteError):
        text = exc.message
        kind = exc.exc_type or "remote error"
    else:
        text, kind = str(exc), type(exc).__name__
    first = (text.strip().splitlines() or [""])[0]
    if len(first) > _MAX_SHORT:
        first = first[:_MAX_SHORT] + "…"
    return f"{kind}: {first}" if first else kind


def error_details(exc: BaseException) -> str:
    """The full error text and traceback (the remote one where the backend sent it)."""
    if isinstance(exc, RemoteError) and exc.traceback:
        return f"{exc}\n\n{exc.traceback}"
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def error_outputs(exc: BaseException) -> tuple[dict[str, Any], ...]:
    """A red short message with the details collapsed underneath."""
    short = html.escape(short_message(exc))
    details = html.escape(error_details(exc))
    page = (
        f'<div style="color:#c62828"><b>✖ {short}</b></div>'
        f"<details><summary>details</summary><pre>{details}</pre></details>"
    )
    return (display_output({"text/html": page, "text/plain": short_message(exc)}),)
