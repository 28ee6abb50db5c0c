"""What a form shows a scientist: labels, units, types, defaults, 'not set', empty numbers, plots.

The forms are built from the api_info of a real backend module (our schema generator reads
the docstrings), as ``%dasf form`` builds them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import ipywidgets as w
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.jupyter.forms import form_for
from dasf_jupyter.jupyter.forms.labels import label_for, type_text, units_from
from dasf_jupyter.jupyter.forms.result_view import quick_plot_figure, result_outputs

WAIT = 10  # s; bound for the form's worker thread


def forecast(
    wind_kmh: float,
    site: Literal["north", "south"],
    start: dt.datetime,
    n_days: int = 3,
    temperature: float = 288.0,
    note: str | None = None,
    threshold: float | None = None,
) -> str:
    """Make a forecast.

    Parameters
    ----------
    wind_kmh : float
        wind speed [km/h]
    site : str
        where to forecast
    start : datetime
        first time step
    n_days : int
        how many days
    temperature : float
        mean temperature in K
    note : str, optional
        free text for the log
    threshold : float, optional
        warn above this wind speed
    """
    return "ok"


@pytest.fixture
def form():
    api_info = BackendModule("look-demo", [forecast]).api_info()
    return form_for(api_info, "forecast", namespace={})


def _all_html(widget: w.Widget) -> str:
    """The HTML of every HTML widget inside ``widget``."""
    found = [widget.value] if isinstance(widget, w.HTML) else []
    for child in getattr(widget, "children", ()):
        found.append(_all_html(child))
    return "\n".join(found)


def test_labels_keep_the_name_and_add_units_from_the_docstring(form):
    labels = {name: field.title for name, field in form.fields.fields.items()}
    assert labels["wind_kmh"] == "wind (km/h)"  # not "Wind Kmh"
    assert labels["temperature"] == "temperature (K)"
    assert labels["n_days"] == "n_days"  # no unit: the name as written
    assert labels["note"] == "note"
    assert label_for("x", {"title": "Explicit title", "description": "in m"}) == "Explicit title"
    assert units_from("wind speed [km/h]") == "km/h"
    assert units_from("depth in the north") is None  # prose, not a unit
    assert units_from("units: degC") == "degC"


def test_label_column_is_aligned_and_shows_type_and_default(form):
    columns = [field.label_column() for field in form.fields.fields.values()]
    widths = {c.layout.width for c in columns}
    assert len(widths) == 1 and widths != {None}  # one fixed width: the controls line up
    html = {name: field.label_column().value for name, field in form.fields.fields.items()}
    assert "float = 288.0" in html["temperature"]
    assert "int = 3" in html["n_days"]
    assert "datetime" in html["start"]
    assert "'north' | 'south'" in html["site"].replace("&#x27;", "'")
    assert type_text({"enum": ["radiosonde", "lidar", "drone"]}) == "one of 3"  # long: in the list
    assert "str | None = None" in html["note"]
    assert 'title="required">*' in html["wind_kmh"] and "required" not in html["n_days"]


def test_no_hard_coded_colours_only_theme_variables(form):
    form.run()  # shows the validation summary, too
    text = _all_html(form)
    assert "var(--jp-ui-font-color2)" in text  # descriptions: readable in dark themes
    assert not re.search(r"#[0-9a-fA-F]{3,6}\b|rgb\(", text)
    assert "color:#" not in form.fields.fields["wind_kmh"].error.value


def test_optional_fields_show_their_label_and_a_not_set_toggle(form):
    note = form.fields.fields["note"]
    row = note.children[0]
    assert note.label_column() is not None and "<b>note</b>" in row.children[0].value
    assert note.none.description == "not set" and note.none.value is True
    assert note.inner.layout.display == "none"
    assert "None" not in note.none.description
    note.none.value = False
    assert note.inner.layout.display is None
    note.inner.control.value = "windy"
    assert form.value["note"] == "windy"


def test_required_numbers_start_empty_and_block_the_run(form):
    calls: list = []
    form.run_panel.runner = lambda request, sink: calls.append(request)
    wind = form.fields.fields["wind_kmh"]
    assert wind.control.value == "" and "wind_kmh" not in form.value
    assert form.run() is False and calls == []
    assert "wind_kmh" in form.run_panel.summary.value
    assert "required" in wind.error.value
    wind.control.value = "12.5"
    form.fields.fields["site"].control.value = "north"
    form.fields.fields["start"].set_value("2024-05-01T00:00:00")
    assert form.run() and form.wait(WAIT)
    assert calls[0]["wind_kmh"] == 12.5 and "threshold" not in calls[0]


def _grid() -> xr.DataArray:
    lat = np.linspace(-60, 60, 5)
    lon = np.linspace(0, 300, 6)
    return xr.DataArray(
        288 - 30 * np.abs(np.sin(np.deg2rad(lat)))[:, None] + 0 * lon,
        coords={"lat": lat, "lon": lon},
        dims=("lat", "lon"),
        name="tas",
        attrs={"units": "K", "long_name": "near-surface temperature"},
    )


def test_quick_plot_of_a_data_array_uses_coordinates_and_units():
    pytest.importorskip("matplotlib")
    figure = quick_plot_figure(_grid())
    main, colorbar = figure.axes
    assert (main.get_xlabel(), main.get_ylabel()) == ("lon", "lat")
    assert main.get_xlim() == pytest.approx((-30, 330))  # real longitudes, not pixel indices
    assert colorbar.get_ylabel() == "near-surface temperature [K]"


def test_quick_plot_of_a_3d_field_shows_its_first_slice():
    pytest.importorskip("matplotlib")
    cube = xr.concat([_grid(), _grid() + 1], dim="time")
    figure = quick_plot_figure(cube)
    assert "first slice" in figure.axes[0].get_title()


def test_datasets_and_frames_get_a_default_view():
    pytest.importorskip("matplotlib")
    ds = xr.Dataset({"tas": _grid(), "pr": _grid() * 0 + 1.0})
    title = quick_plot_figure(ds).axes[0].get_title()
    assert "tas" in title and "1 of 2 variables" in title
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3, 2, 1], "label": ["x", "y", "z"]})
    axes = quick_plot_figure(frame).axes[0]
    assert [line.get_label() for line in axes.get_lines()] == ["a", "b"]
    outputs = result_outputs(frame)
    assert "<table" in outputs[0]["data"]["text/html"] and "image/png" in outputs[1]["data"]
    assert quick_plot_figure(pd.DataFrame({"s": ["only", "text"]})) is None
