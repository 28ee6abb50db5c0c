"""Every supported type survives encode → JSON text → decode_by_schema (and pydantic)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any, Literal, Optional

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pydantic import BaseModel, TypeAdapter

from dasf_jupyter.codecs import (
    CODEC_KEY,
    decode_by_schema,
    encode_by_schema,
    encode_value,
    pydantic_type_for,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: float
    y: float
    label: Optional[str] = None


class Shape(BaseModel):
    name: str
    points: list[Point]
    created: dt.datetime


def through_json(value: Any, annotation: Any) -> tuple[Any, Any, dict]:
    """Encode like a backend, send as JSON text, decode like a client (and like pydantic)."""
    adapter = TypeAdapter(pydantic_type_for(annotation))
    schema = adapter.json_schema()
    text = json.dumps(encode_value(value))
    client_side = decode_by_schema(json.loads(text), schema)
    backend_side = adapter.validate_python(json.loads(text))
    return client_side, backend_side, schema


@pytest.mark.parametrize(
    ("value", "annotation"),
    [
        (None, Optional[int]),
        (3, Optional[int]),
        ("a", Literal["a", "b"]),
        ({"a": [1, 2], "b": []}, dict[str, list[int]]),
        ([1.5, 2.5], list[float]),
    ],
)
def test_plain_json_types_round_trip(value: Any, annotation: Any) -> None:
    client, backend, _ = through_json(value, annotation)
    assert client == value
    assert backend == value


def test_enum_round_trips_as_its_value() -> None:
    client, backend, schema = through_json(Color.BLUE, Color)
    assert client == "blue"
    assert backend is Color.BLUE


def test_datetime_and_date_decode_to_real_objects() -> None:
    when = dt.datetime(2024, 5, 1, 12, 30, 5, 123456, tzinfo=dt.timezone.utc)
    client, backend, _ = through_json(when, dt.datetime)
    assert client == when and isinstance(client, dt.datetime)
    assert backend == when
    day = dt.date(2024, 2, 29)
    client, backend, _ = through_json(day, dt.date)
    assert client == day and type(client) is dt.date


def test_date_time_strings_without_format_stay_strings() -> None:
    assert decode_by_schema("2024-05-01T12:00:00", {"type": "string"}) == "2024-05-01T12:00:00"


def test_nested_model_decodes_datetimes_inside() -> None:
    shape = Shape(
        name="tri",
        points=[Point(x=0, y=0), Point(x=1, y=0, label="b")],
        created=dt.datetime(2024, 1, 1, 8, 0),
    )
    client, backend, schema = through_json(shape, Shape)
    assert backend == shape
    assert client["points"][1] == {"x": 1.0, "y": 0.0, "label": "b"}
    assert client["created"] == dt.datetime(2024, 1, 1, 8, 0)


@pytest.mark.parametrize(
    "array",
    [
        np.array([1.5, -2.0, np.nan, np.inf]),
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.array([True, False, True]),
        np.arange(6, dtype=">i8").reshape(2, 3),  # big-endian input
        np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]"),
        np.array(["ab", "cde"]),
        np.array([1 + 2j]),
        np.zeros((0, 3)),
        np.array(5.0),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
    ids=lambda a: f"{a.dtype}-{a.shape}",
)
def test_numpy_arrays_round_trip_with_dtype_and_shape(array: np.ndarray) -> None:
    client, backend, schema = through_json(array, np.ndarray)
    assert schema[CODEC_KEY] == "numpy.ndarray/json"
    for got in (client, backend):
        assert isinstance(got, np.ndarray)
        assert got.shape == array.shape
        assert got.dtype.newbyteorder("=") == array.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, array)
    client[...] = client  # decoded arrays are writable


def test_object_array_travels_as_a_json_list() -> None:
    array = np.array(["x", None, 3], dtype=object)
    encoded = encode_value(array)
    assert encoded["data"] == ["x", None, 3]
    client, _, _ = through_json(array, np.ndarray)
    assert client.dtype == object and list(client) == ["x", None, 3]


def test_plain_nested_list_is_accepted_for_an_ndarray_field() -> None:
    adapter = TypeAdapter(pydantic_type_for(np.ndarray))
    got = adapter.validate_python([[1, 2], [3, 4]])
    assert got.shape == (2, 2)


def test_typed_ndarray_annotation_casts_and_documents_dtype() -> None:
    import numpy.typing as npt

    adapter = TypeAdapter(pydantic_type_for(npt.NDArray[np.float32]))
    assert adapter.json_schema()["x-dasf-dtype"] == "float32"
    assert adapter.validate_python(encode_value(np.arange(3))).dtype == np.float32


@pytest.fixture
def dataarray() -> xr.DataArray:
    return xr.DataArray(
        np.arange(12.0).reshape(3, 4),
        dims=("time", "x"),
        coords={
            "time": pd.date_range("2024-01-01", periods=3),
            "x": [10, 20, 30, 40],
            "label": ("x", ["a", "b", "c", "d"]),
        },
        attrs={"units": "K", "long_name": "temperature"},
        name="t2m",
    )


def test_dataarray_with_coords_and_attrs_round_trips(dataarray: xr.DataArray) -> None:
    client, backend, schema = through_json(dataarray, xr.DataArray)
    assert schema[CODEC_KEY] == "xarray.DataArray/netcdf3-base64"
    assert schema["type"] == "string"
    for got in (client, backend):
        xr.testing.assert_identical(got, dataarray)


def test_dataset_round_trips(dataarray: xr.DataArray) -> None:
    ds = xr.Dataset({"t2m": dataarray, "flag": ("x", np.array([1, 0, 1, 1], dtype=np.int16))})
    ds.attrs["title"] = "probe"
    client, backend, schema = through_json(ds, xr.Dataset)
    assert schema[CODEC_KEY] == "xarray.Dataset/netcdf3-base64"
    for got in (client, backend):
        xr.testing.assert_identical(got, ds)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype=np.int64),
            "f": [0.5, np.nan, 2.5],
            "b": [True, False, True],
            "s": ["x", "y", "z"],
            "t": pd.date_range("2024-01-01", periods=3, freq="h"),
            "tz": pd.date_range("2024-01-01", periods=3, tz="Europe/Berlin"),
            "n": pd.array([1, None, 3], dtype="Int64"),
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )


def test_dataframe_with_index_and_mixed_dtypes_round_trips(frame: pd.DataFrame) -> None:
    client, backend, schema = through_json(frame, pd.DataFrame)
    assert schema[CODEC_KEY] == "pandas.DataFrame/split-json"
    for got in (client, backend):
        pd.testing.assert_frame_equal(got, frame)


def test_dataframe_with_range_and_multi_index_round_trips() -> None:
    plain = pd.DataFrame({"a": [1.0, 2.0]})
    assert encode_value(plain)["index"]["range"] == [0, 2, 1]
    pd.testing.assert_frame_equal(through_json(plain, pd.DataFrame)[0], plain)
    multi = pd.DataFrame(
        {"v": [1, 2, 3, 4]},
        index=pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"]),
    )
    pd.testing.assert_frame_equal(through_json(multi, pd.DataFrame)[0], multi)


def test_series_round_trips() -> None:
    series = pd.Series([1.5, 2.5], index=pd.date_range("2024-01-01", periods=2), name="v")
    client, backend, schema = through_json(series, pd.Series)
    assert schema[CODEC_KEY] == "pandas.Series/split-json"
    for got in (client, backend):
        pd.testing.assert_series_equal(got, series)


def test_pandas_split_orient_and_records_are_accepted() -> None:
    adapter = TypeAdapter(pydantic_type_for(pd.DataFrame))
    split = json.loads(pd.DataFrame({"a": [1, 2]}).to_json(orient="split"))
    assert adapter.validate_python(split)["a"].tolist() == [1, 2]
    records = adapter.validate_python([{"a": 1}, {"a": 2}])
    assert records["a"].tolist() == [1, 2]


def test_optional_and_containers_of_codec_types_decode() -> None:
    annotation = Optional[dict[str, list[np.ndarray]]]
    value = {"k": [np.arange(3), np.ones(2)]}
    client, backend, _ = through_json(value, annotation)
    np.testing.assert_array_equal(client["k"][0], np.arange(3))
    np.testing.assert_array_equal(backend["k"][1], np.ones(2))
    assert through_json(None, annotation)[0] is None


def test_bytes_travel_as_base64() -> None:
    client, backend, schema = through_json(b"\x00\xffbin", bytes)
    assert schema["contentEncoding"] == "base64"
    assert client == b"\x00\xffbin" and backend == b"\x00\xffbin"


def test_encode_by_schema_coerces_plain_values_for_codec_fields() -> None:
    schema = TypeAdapter(pydantic_type_for(Optional[np.ndarray])).json_schema()
    wire = encode_by_schema([[1, 2], [3, 4]], schema)
    assert wire["shape"] == [2, 2]
    assert encode_by_schema(None, schema) is None


def test_encode_by_schema_matches_backend_for_xarray(dataarray: xr.DataArray) -> None:
    schema = TypeAdapter(pydantic_type_for(xr.DataArray)).json_schema()
    wire = encode_by_schema(dataarray, schema)
    assert isinstance(wire, str)
    back = TypeAdapter(pydantic_type_for(xr.DataArray)).validate_python(wire)
    xr.testing.assert_identical(back, dataarray)


def test_unknown_codec_leaves_value_unchanged() -> None:
    assert decode_by_schema({"a": 1}, {CODEC_KEY: "nobody/knows"}) == {"a": 1}


def test_ref_into_defs_is_followed() -> None:
    schema = TypeAdapter(pydantic_type_for(list[Point])).json_schema()
    got = decode_by_schema([{"x": 1.0, "y": 2.0, "label": None}], schema)
    assert got == [{"x": 1.0, "y": 2.0, "label": None}]
