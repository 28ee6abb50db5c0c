"""pandas DataFrame/Series as JSON: column-wise typed arrays.

Wire forms (codecs ``pandas.DataFrame/split-json`` and ``pandas.Series/split-json``)::

    DataFrame: {"columns": [name, ...], "index": INDEX, "data": [COLUMN, ...]}
    Series:    {"name": name, "index": INDEX, "data": COLUMN}
    INDEX:     {"names": [name, ...], "levels": [COLUMN, ...]}   (one level per MultiIndex level)
               or {"names": [name], "range": [start, stop, step]} for a RangeIndex,
               plus "freq" for a regular DatetimeIndex/TimedeltaIndex
    COLUMN:    a numpy wire form {"dtype", "shape", "data"} (see ``numpy_codec``), plus
               "tz" for timezone-aware datetimes (values are UTC) or
               "pandas_dtype" for other extension dtypes (then data is a JSON list, NA → null)

Like pandas' ``orient="split"`` the columns, index and data travel apart, but every column
keeps its dtype and numeric columns travel as raw bytes, so int/float/bool/datetime64 frames
round-trip exactly and big frames stay fast. Names must be JSON scalars.

Lenient input: pandas' own ``orient="split"`` dicts (``data`` as rows), a list of records, or
a plain dict of columns are accepted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .numpy_codec import decode_ndarray, encode_ndarray
from .registry import Codec, CodecError, register

DATAFRAME_NAME = "pandas.DataFrame/split-json"
SERIES_NAME = "pandas.Series/split-json"

_NAME_TYPES = (str, int, float, bool, type(None))

_COLUMN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["dtype", "shape", "data"],
}
_INDEX_SCHEMA: dict[str, Any] = {"type": "object", "required": ["names"]}

DATAFRAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "columns": {"type": "array"},
        "index": _INDEX_SCHEMA,
        "data": {"type": "array", "items": _COLUMN_SCHEMA},
    },
    "required": ["columns", "index", "data"],
}
SERIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {}, "index": _INDEX_SCHEMA, "data": _COLUMN_SCHEMA},
    "required": ["index", "data"],
}


def _check_name(name: Any) -> Any:
    if isinstance(name, np.generic):
        name = name.item()
    if not isinstance(name, _NAME_TYPES):
        raise CodecError(f"pandas label {name!r} is not a JSON scalar (str/int/float/bool/None)")
    return name


def _encode_column(values: Any) -> dict[str, Any]:
    """Encode a Series or Index (one level) keeping its dtype."""
    import pandas as pd

    from .values import encode_value

    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        return encode_ndarray(values.to_numpy(), element_encoder=encode_value)
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
        return {**encode_ndarray(utc.to_numpy()), "tz": str(dtype.tz)}
    return {
        "dtype": "|O",
        "shape": [len(values)],
        "data": _plain_items(values),
        "pandas_dtype": str(dtype),
    }


def _plain_items(values: Any) -> list[Any]:
    """Extension-array values as a JSON list, NA → None (vectorised: str columns are big)."""
    import pandas as pd

    arr = np.asarray(values, dtype=object)
    mask = pd.isna(arr)
    if mask.any():
        arr = arr.copy()
        arr[mask] = None
    items: list[Any] = arr.tolist()
    if all(type(v) in _PLAIN for v in items):
        return items
    from .values import encode_value

    return [encode_value(v) for v in items]


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _decode_column(col: Any) -> Any:
    import pandas as pd

    if not isinstance(col, dict):
        raise CodecError("a pandas column must be an object with dtype, shape and data")
    if "pandas_dtype" in col:
        try:
            return pd.array(col["data"], dtype=col["pandas_dtype"])
        except (TypeError, ValueError) as exc:
            msg = f"cannot rebuild pandas dtype {col['pandas_dtype']!r}: {exc}"
            raise CodecError(msg) from None
    arr = decode_ndarray(col)
    if "tz" in col:
        return pd.DatetimeIndex(arr).tz_localize("UTC").tz_convert(col["tz"])
    return arr


def _encode_index(index: Any) -> dict[str, Any]:
    import pandas as pd

    names = [_check_name(n) for n in index.names]
    if isinstance(index, pd.RangeIndex):
        return {"names": names, "range": [index.start, index.stop, index.step]}
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        return {"names": names, "levels": [_encode_column(lv) for lv in levels]}
    spec = {"names": names, "levels": [_encode_column(index)]}
    freq = getattr(index, "freqstr", None)  # DatetimeIndex/TimedeltaIndex regularity
    if freq:
        spec["freq"] = freq
    return spec


def _decode_index(spec: Any) -> Any:
    import pandas as pd

    if not isinstance(spec, dict) or "names" not in spec:
        raise CodecError("a pandas index must be an object with names and levels or range")
    names = spec["names"]
    if "range" in spec:
        start, stop, step = spec["range"]
        return pd.RangeIndex(start, stop, step, name=names[0] if names else None)
    levels = [_decode_column(lv) for lv in spec.get("levels", [])]
    if len(levels) == 1:
        index = pd.Index(levels[0], name=names[0] if names else None)
        if spec.get("freq") and isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
            index.freq = spec["freq"]  # validated by pandas against the values
        return index
    return pd.MultiIndex.from_arrays(levels, names=names)


def encode_dataframe(df: Any) -> dict[str, Any]:
    """Encode a DataFrame as typed columns plus index."""
    import pandas as pd

    if isinstance(df.columns, pd.MultiIndex):
        raise CodecError("DataFrames with MultiIndex columns are not supported; flatten them")
    return {
        "columns": [_check_name(c) for c in df.columns],
        "index": _encode_index(df.index),
        "data": [_encode_column(df.iloc[:, i]) for i in range(df.shape[1])],
    }


def decode_dataframe(value: Any) -> Any:
    """Wire form (or a pandas split dict / records / dict of columns) → ``DataFrame``."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, list):
        return pd.DataFrame.from_records(value)
    if not isinstance(value, dict):
        raise CodecError(f"cannot build a DataFrame from {type(value).__name__}")
    if not _is_typed_form(value):
        if {"columns", "data"} <= value.keys():  # pandas' own orient="split"
            return pd.DataFrame(value["data"], index=value.get("index"), columns=value["columns"])
        return pd.DataFrame(value)
    index = _decode_index(value["index"])
    columns = value["columns"]
    data = value["data"]
    if len(columns) != len(data):
        raise CodecError(f"{len(columns)} column names but {len(data)} columns")
    by_position = {i: _decode_column(col) for i, col in enumerate(data)}
    df = pd.DataFrame(by_position, index=index) if by_position else pd.DataFrame(index=index)
    df.columns = pd.Index(columns, dtype=object) if not columns else pd.Index(columns)
    return df


def _is_typed_form(value: dict[str, Any]) -> bool:
    data = value.get("data")
    index = value.get("index")
    if not isinstance(index, dict) or "names" not in index:
        return False
    if isinstance(data, dict):  # a Series column
        return "dtype" in data
    return isinstance(data, list) and all(isinstance(c, dict) and "dtype" in c for c in data)


def encode_series(series: Any) -> dict[str, Any]:
    """Encode a Series as one typed column plus index and name."""
    return {
        "name": _check_name(series.name),
        "index": _encode_index(series.index),
        "data": _encode_column(series),
    }


def decode_series(value: Any) -> Any:
    """Wire form (or a list / dict of values) → ``Series``."""
    import pandas as pd

    if isinstance(value, pd.Series):
        return value
    if isinstance(value, dict) and _is_typed_form(value):
        index = _decode_index(value["index"])
        return pd.Series(_decode_column(value["data"]), index=index, name=value.get("name"))
    if isinstance(value, dict) and {"index", "data"} <= value.keys():  # orient="split"
        return pd.Series(value["data"], index=value["index"], name=value.get("name"))
    return pd.Series(value)


DATAFRAME = register(
    Codec(
        DATAFRAME_NAME, "pandas", "DataFrame", encode_dataframe, decode_dataframe, DATAFRAME_SCHEMA
    )
)
SERIES = register(
    Codec(SERIES_NAME, "pandas", "Series", encode_series, decode_series, SERIES_SCHEMA)
)
