"""Fields for array/table data (pick a notebook variable or upload a file) and untyped JSON."""

from __future__ import annotations

import importlib
import io
import json
import sys
import types
from pathlib import PurePath
from typing import Any

import ipywidgets as w

from .base import EMPTY, Field, InvalidInput

_UPLOAD = "upload: "


def codec_type(codec_name: str) -> type | None:
    """The Python type named by an ``x-dasf-codec`` value like ``xarray.DataArray/netcdf3``."""
    dotted = codec_name.split("/", 1)[0]
    module_name, _, type_name = dotted.rpartition(".")
    if not module_name:
        return None
    try:
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, type_name, None)
    return found if isinstance(found, type) else None


def variables_of(namespace: dict[str, Any], kind: type | None) -> list[str]:
    """Names of the user's data variables in ``namespace`` (of type ``kind`` if given)."""
    code_like = (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)
    return sorted(
        name
        for name, value in namespace.items()
        if not name.startswith("_")
        and (isinstance(value, kind) if kind else not isinstance(value, code_like))
    )


def decode_upload(name: str, content: bytes, kind: type | None) -> Any:
    """An uploaded .nc (netCDF, read by xarray) or .csv (read by pandas) file as ``kind``."""
    suffix = PurePath(name).suffix.lower()
    try:
        if suffix == ".nc":
            import xarray as xr

            data: Any = xr.load_dataset(io.BytesIO(content))
        elif suffix == ".csv":
            import pandas as pd

            data = pd.read_csv(io.BytesIO(content))
        else:
            raise InvalidInput(f"{name}: only .nc and .csv files can be read")
    except InvalidInput:
        raise
    except Exception as exc:  # readers raise many types; all mean "not a readable file"
        raise InvalidInput(f"cannot read {name}: {exc}") from exc
    return _convert(data, kind, name)


def _convert(data: Any, kind: type | None, name: str) -> Any:
    """Turn a loaded Dataset/DataFrame into the type the argument expects."""
    if kind is None or isinstance(data, kind):
        return data
    target = f"{kind.__module__.split('.')[0]}.{kind.__name__}"
    to_dataset = getattr(data, "to_xarray", None)  # DataFrame → Dataset
    if target == "xarray.Dataset" and to_dataset:
        return to_dataset()
    if target == "xarray.DataArray":
        dataset = to_dataset() if to_dataset else data
        if len(dataset.data_vars) != 1:
            raise InvalidInput(f"{name}: expected one data variable, found {len(dataset)}")
        return next(iter(dataset.data_vars.values()))
    if target == "pandas.DataFrame" and hasattr(data, "to_dataframe"):
        return data.to_dataframe()
    if target == "numpy.ndarray":
        return data.to_array().values if hasattr(data, "to_array") else data.to_numpy()
    raise InvalidInput(f"{name}: cannot turn {type(data).__name__} into {target}")


class _VariableField(Field):
    """A Dropdown of notebook variables, refreshed on demand, plus extra sources."""

    kind: type | None = None

    def variable_picker(self) -> w.Widget:
        self.picker = w.Dropdown(options=[], value=None)
        refresh = w.Button(icon="refresh", tooltip="look for variables again")
        refresh.layout.width = "auto"
        refresh.on_click(lambda _b: self.refresh())
        self.refresh()
        return w.HBox([self.describe(self.picker), refresh])

    def refresh(self) -> None:
        """List the matching variables of the namespace again, keeping the selection."""
        current = self.picker.value
        options = self.extra_options() + variables_of(self.ctx.namespace, self.kind)
        self.picker.options = options
        self.picker.value = current if current in options else None

    def extra_options(self) -> list[str]:
        """Choices listed before the variables."""
        return []


class DataField(_VariableField):
    """An xarray/pandas/numpy argument (``x-dasf-codec``): a variable or an uploaded file."""

    def build(self) -> w.Widget:
        self.codec = str(self.schema.get("x-dasf-codec", ""))
        self.kind = codec_type(self.codec)
        self.uploads: dict[str, Any] = {}
        self.upload = w.FileUpload(accept=".nc,.csv", multiple=False, description="upload")
        self.upload.observe(lambda _change: self._receive(), "value")
        return w.VBox([self.variable_picker(), self.upload])

    def extra_options(self) -> list[str]:
        return [_UPLOAD + name for name in self.uploads]

    def _receive(self) -> None:
        for item in self.upload.value:
            try:
                data = decode_upload(item["name"], bytes(item["content"]), self.kind)
            except InvalidInput as exc:
                self.show_message(str(exc))
                continue
            self.add_upload(item["name"], data)

    def add_upload(self, name: str, data: Any) -> None:
        """Offer ``data`` (read from file ``name``) as a choice and select it."""
        self.uploads[name] = data
        self.refresh()
        self.picker.value = _UPLOAD + name
        self.show_message(None)

    def read(self) -> Any:
        choice = self.picker.value
        if choice is None:
            return EMPTY
        if choice.startswith(_UPLOAD) and choice[len(_UPLOAD) :] in self.uploads:
            return self.uploads[choice[len(_UPLOAD) :]]
        if choice not in self.ctx.namespace:
            raise InvalidInput(f"the variable {choice!r} no longer exists")
        return self.ctx.namespace[choice]

    def set_value(self, value: Any) -> None:
        # a default of a data argument is a wire form, not a variable: offer it as such
        self.add_upload("default", value)


class AnyField(_VariableField):
    """A field without a type: JSON text, or any notebook variable."""

    def build(self) -> w.Widget:
        self.text = w.Textarea(placeholder="JSON value", rows=1)
        self.text.observe(lambda _change: self.recheck(), "value")
        return w.VBox([self.variable_picker(), self.text])

    def extra_options(self) -> list[str]:
        return ["(JSON below)"]

    def read(self) -> Any:
        choice = self.picker.value
        if choice and choice in self.ctx.namespace:
            return self.ctx.namespace[choice]
        if not self.text.value.strip():
            return EMPTY
        try:
            return json.loads(self.text.value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc}") from exc

    def set_value(self, value: Any) -> None:
        self.picker.value = "(JSON below)"
        self.text.value = json.dumps(value)
