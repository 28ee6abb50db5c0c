"""xarray objects as base64 netCDF3, the reference's (demessaging) wire form.

Wire form (codecs ``xarray.DataArray/netcdf3-base64`` and ``xarray.Dataset/netcdf3-base64``):
a JSON string holding the base64 of ``obj.to_netcdf(format="NETCDF3_CLASSIC")`` written with
the ``scipy`` engine, exactly what ``demessaging.serializers.xarray.encode_xarray`` sends, so a
demessaging peer reads ours and we read theirs.

Lenient input, as demessaging's validators accept: raw netCDF ``bytes``, a dict from
``to_dict()`` (``from_dict``), or anything the constructor takes. netCDF4/HDF5 bytes are read
with ``h5netcdf`` when it is installed.
"""

from __future__ import annotations

import io
from typing import Any

from .attachments import Buffer, as_bytes, wire_bytes
from .pieces import PiecesWriter, SeekableMemory
from .registry import Codec, CodecError, register

DATAARRAY_NAME = "xarray.DataArray/netcdf3-base64"
DATASET_NAME = "xarray.Dataset/netcdf3-base64"

_HDF5_MAGIC = b"\x89HDF"

JSON_SCHEMA: dict[str, Any] = {
    "type": "string",
    "contentEncoding": "base64",
    "contentMediaType": "application/x-netcdf",
}


def encode_xarray(obj: Any) -> str:
    """Encode a DataArray or Dataset as base64 netCDF3 text (or a binary-body attachment)."""
    target = PiecesWriter()
    try:
        obj.to_netcdf(target, format="NETCDF3_CLASSIC", engine="scipy")
    except (TypeError, ValueError) as exc:
        raise CodecError(f"cannot write {type(obj).__name__} as netCDF3: {exc}") from None
    return wire_bytes(target.joined())


class _ViewReader(SeekableMemory):
    """A read-only file over a buffer that, unlike ``BytesIO(view)``, copies nothing up front.

    A large result's netCDF bytes are read where they arrived; only what the reader asks for is
    copied (one copy less of the whole value than ``BytesIO``).
    """

    mode = "rb"  # as a binary file opened for reading (xarray's ReadBuffer protocol)

    def __init__(self, data: Buffer) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B")

    def _end(self) -> int:
        return self._view.nbytes

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        total = self._view.nbytes
        end = total if size is None or size < 0 else min(total, self._pos + size)
        start, self._pos = self._pos, max(self._pos, end)
        return bytes(self._view[start:end])

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _open(raw: Buffer, dataset: bool) -> Any:
    import xarray as xr

    hdf5 = bytes(raw[:4]) == _HDF5_MAGIC
    engine = "h5netcdf" if hdf5 else "scipy"
    opener = xr.open_dataset if dataset else xr.open_dataarray
    source = io.BytesIO(raw) if hdf5 else _ViewReader(raw)
    try:
        with opener(source, engine=engine) as obj:
            return obj.load()
    except (ValueError, TypeError, OSError) as exc:
        kind = "Dataset" if dataset else "DataArray"
        raise CodecError(f"cannot read an xarray.{kind} from the netCDF bytes: {exc}") from None


#: what ``DataArray.to_netcdf`` writes so that ``open_dataarray`` can tell a DataArray's file
#: from a Dataset's: the variable of an unnamed DataArray, and the global attribute with the name
_DATAARRAY_VARIABLE = "__xarray_dataarray_variable__"
_DATAARRAY_NAME_ATTR = "__xarray_dataarray_name__"


def decode_xarray_as_written(value: Any) -> Any:
    """netCDF bytes (or their base64) → the ``DataArray`` or ``Dataset`` that was written.

    For results whose schema names no type (demessaging's). ``DataArray.to_netcdf`` writes one
    data variable, no global attributes except xarray's DataArray marker, and only coordinates
    along the variable's dimensions. Bytes that hold anything else (global attributes, several
    variables, a coordinate a DataArray cannot carry) were a Dataset and stay one. A
    one-variable Dataset without any of these is indistinguishable from a named DataArray and
    comes back as that DataArray.
    """
    dataset = _open(as_bytes(value, "xarray value"), dataset=True)
    if not _written_from_dataarray(dataset):
        return dataset
    attrs = dict(dataset.attrs)
    name = attrs.pop(_DATAARRAY_NAME_ATTR, None)
    (array,) = dataset.data_vars.values()
    if name is not None:
        return array.rename(name)
    return array.rename(None) if array.name == _DATAARRAY_VARIABLE else array


def _written_from_dataarray(dataset: Any) -> bool:
    if _DATAARRAY_NAME_ATTR in dataset.attrs or _DATAARRAY_VARIABLE in dataset.data_vars:
        return len(dataset.data_vars) == 1
    if len(dataset.data_vars) != 1 or dataset.attrs:
        return False
    (array,) = dataset.data_vars.values()
    return all(set(coord.dims) <= set(array.dims) for coord in dataset.coords.values())


def _decode(value: Any, kind: Any) -> Any:
    """``value`` as an instance of ``kind`` (``xarray.DataArray`` or ``xarray.Dataset``)."""
    if isinstance(value, kind):
        return value
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return _open(as_bytes(value, "xarray value"), dataset=kind.__name__ == "Dataset")
    if isinstance(value, dict):
        return kind.from_dict(value)
    return kind(value)


def decode_dataarray(value: Any) -> Any:
    """Wire form (or bytes / dict / array-like) → ``xarray.DataArray``."""
    import xarray as xr

    return _decode(value, xr.DataArray)


def decode_dataset(value: Any) -> Any:
    """Wire form (or bytes / dict / mapping) → ``xarray.Dataset``."""
    import xarray as xr

    return _decode(value, xr.Dataset)


DATAARRAY = register(
    Codec(DATAARRAY_NAME, "xarray", "DataArray", encode_xarray, decode_dataarray, JSON_SCHEMA)
)
DATASET = register(
    Codec(DATASET_NAME, "xarray", "Dataset", encode_xarray, decode_dataset, JSON_SCHEMA)
)
