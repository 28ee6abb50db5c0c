"""Turn a call's result or error into Output-widget outputs (no ``with output:`` needed)."""

from __future__ import annotations

import base64
import io
from typing import Any


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

        formatter = (
            InteractiveShell.instance().display_formatter
            if InteractiveShell.initialized()
            else None
        )
        if formatter is not None:
            shell_data, _metadata = formatter.format(obj)
            data.update(shell_data)
    except ImportError:
        pass
    return data


def display_output(data: dict[str, Any]) -> dict[str, Any]:
    """One ``display_data`` output entry."""
    return {"output_type": "display_data", "data": data, "metadata": {}}


#: numeric columns of a DataFrame drawn at most in its quick plot
MAX_FRAME_COLUMNS = 8


def _plottable(values: Any) -> bool:
    import numpy as np

    return isinstance(values, np.ndarray) and values.dtype.kind in "iuf" and values.size > 1


def _plot_data_array(da: Any, axes: Any) -> bool:
    """xarray's own plot: real coordinates, ``name [units]`` labels and colorbar."""
    if not _plottable(da.values) or da.ndim == 0:
        return False
    extra = dict.fromkeys(da.dims[2:], 0)  # a 3-D+ field: its first 2-D slice
    da = da.isel(extra) if extra else da
    if da.ndim == 1:
        da.plot.line(ax=axes)
    else:
        da.plot(ax=axes)
    if extra:
        axes.set_title(axes.get_title() + " (first slice)", fontsize="small")
    return True


def _plot_dataset(ds: Any, axes: Any) -> bool:
    """The first numeric data variable, plotted as a DataArray (its name in the title)."""
    for name, variable in ds.data_vars.items():
        if _plot_data_array(variable, axes):
            if len(ds.data_vars) > 1:
                axes.set_title(f"{name} (1 of {len(ds.data_vars)} variables)", fontsize="small")
            return True
    return False


def _plot_frame(frame: Any, axes: Any) -> bool:
    """The numeric columns against the index (a line each, at most a few)."""
    numeric = frame.select_dtypes("number")
    if numeric.empty or len(numeric) < 2:
        return False
    numeric.iloc[:, :MAX_FRAME_COLUMNS].plot(ax=axes)
    return True


def _plot_array(values: Any, axes: Any) -> bool:
    if not _plottable(values) or values.ndim not in (1, 2):
        return False
    if values.ndim == 1:
        axes.plot(values)
    else:
        axes.figure.colorbar(axes.imshow(values, aspect="auto", origin="lower"), ax=axes)
    return True


def quick_plot_figure(obj: Any) -> Any:
    """A matplotlib Figure with a quick look at array or table data, ``None`` if there is none.

    DataArrays and Datasets use xarray's own plotting (coordinates on the axes, units in the
    labels and the colorbar), DataFrames pandas' line plot, plain arrays matplotlib.
    """
    try:
        from matplotlib.figure import Figure  # not pyplot's global figures: thread-safe
    except ImportError:
        return None
    plotters = []
    try:
        import xarray as xr

        plotters += [(xr.DataArray, _plot_data_array), (xr.Dataset, _plot_dataset)]
    except ImportError:
        pass
    try:
        import pandas as pd

        plotters.append((pd.DataFrame, _plot_frame))
    except ImportError:
        pass
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axes = figure.subplots()
    for kind, plot in plotters:
        if isinstance(obj, kind):
            drawn = plot(obj, axes)
            break
    else:
        drawn = _plot_array(obj, axes)
    return figure if drawn else None


def quick_plot_png(obj: Any) -> bytes | None:
    """:func:`quick_plot_figure` as PNG bytes."""
    figure = quick_plot_figure(obj)
    if figure is None:
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def result_outputs(result: Any) -> tuple[dict[str, Any], ...]:
    """Outputs showing ``result`` richly, plus a quick plot of array and table data."""
    outputs = [display_output(mime_bundle(result))]
    try:
        png = quick_plot_png(result)
    except Exception:  # plotting is a bonus; never let it hide the result
        png = None
    if png:
        encoded = base64.b64encode(png).decode("ascii")
        outputs.append(display_output({"image/png": encoded, "text/plain": "<quick plot>"}))
    return tuple(outputs)
