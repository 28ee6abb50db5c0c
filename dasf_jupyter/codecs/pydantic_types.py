"""Pydantic-ready annotated types for values that need a codec (numpy, xarray, pandas, bytes).

``pydantic_type_for(xr.DataArray)`` returns ``Annotated[xr.DataArray, PlainValidator(decode),
PlainSerializer(encode, when_used="json"), WithJsonSchema(<wire schema + x-dasf-codec>)]`` so
pydantic validates, serialises and documents such fields without ``arbitrary_types_allowed``
or user-written validators. Generic annotations (``Optional[...]``, ``list[...]``,
``dict[str, ...]``, unions, ``Annotated``) are rebuilt with their arguments converted.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from .registry import Codec, CodecError, codec_for_type

_NO_REWRITE = {typing.Literal, typing.ClassVar}


def pydantic_type_for(annotation: Any) -> Any:
    """Return an ``Annotated[...]`` type for codec types, or the annotation unchanged."""
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        codec = _codec_for_annotation(annotation)
        return annotation if codec is None else _annotated(codec, annotation)
    origin = typing.get_origin(annotation)
    if origin is None or origin in _NO_REWRITE:
        return annotation
    args = typing.get_args(annotation)
    if origin is Annotated:
        inner = pydantic_type_for(args[0])
        metadata = (inner, *annotation.__metadata__)
        return annotation if inner is args[0] else Annotated[metadata]
    ndarray_codec = _codec_for_annotation(origin) if isinstance(origin, type) else None
    if ndarray_codec is not None:  # e.g. numpy.typing.NDArray[np.float64]
        return _annotated(ndarray_codec, origin, _ndarray_dtype(args))
    new_args = tuple(pydantic_type_for(a) if not isinstance(a, list) else a for a in args)
    if all(n is o for n, o in zip(new_args, args, strict=True)):
        return annotation
    if origin in (typing.Union, types.UnionType):
        return typing.Union[new_args]  # noqa: UP007 - must build a Union at runtime
    try:
        return origin[new_args] if len(new_args) != 1 else origin[new_args[0]]
    except TypeError:
        alias = getattr(typing, getattr(origin, "__name__", "").capitalize(), None)
        return alias[new_args] if alias is not None else annotation


def _codec_for_annotation(tp: type) -> Codec | None:
    # the annotation's class is imported (it is in the signature), so the lazy lookup works
    return codec_for_type(tp)


def _ndarray_dtype(args: tuple[Any, ...]) -> Any:
    """The scalar type of ``np.ndarray[shape, np.dtype[T]]`` annotations, if concrete."""
    import numpy as np

    for arg in args:
        scalar = typing.get_args(arg)
        concrete = scalar and isinstance(scalar[0], type) and issubclass(scalar[0], np.generic)
        if typing.get_origin(arg) is np.dtype and concrete and scalar[0] is not np.generic:
            return np.dtype(scalar[0])
    return None


@functools.cache
def _annotated(codec: Codec, tp: type, dtype: Any = None) -> Any:
    schema = codec.schema()
    validate = _validator(codec, tp)
    if dtype is not None:
        schema["x-dasf-dtype"] = dtype.name
        validate = _cast_to(dtype, validate)
    return Annotated[
        tp,
        PlainValidator(validate),
        # a lambda, because pydantic would pass its info object to a 2-parameter encoder
        PlainSerializer(codec.encode, when_used="json"),
        WithJsonSchema(schema),
    ]


def _validator(codec: Codec, tp: type) -> Any:
    def validate(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        try:
            result = codec.decode(value)
        except CodecError:
            raise
        except Exception as exc:  # library errors become validation errors, not crashes
            msg = f"cannot convert to {tp.__module__}.{tp.__qualname__}: {exc}"
            raise ValueError(msg) from None
        if not isinstance(result, tp):
            raise ValueError(f"expected {tp.__qualname__}, got {type(result).__name__}")
        return result

    return validate


def _cast_to(dtype: Any, validate: Any) -> Any:
    def cast(value: Any) -> Any:
        arr = validate(value)
        if arr.dtype == dtype:
            return arr
        try:
            return arr.astype(dtype, casting="same_kind")
        except TypeError as exc:
            raise ValueError(f"array of dtype {arr.dtype} is not {dtype}: {exc}") from None

    return cast
