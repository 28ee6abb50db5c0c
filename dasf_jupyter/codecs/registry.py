"""The codec registry: one entry per Python type that JSON cannot carry natively.

A codec is found by the value's type (to encode) or by the ``x-dasf-codec`` marker of a JSON
schema (to decode). Types of optional heavy libraries are looked up lazily: a codec for
``xarray.DataArray`` only matches once ``xarray`` has been imported by somebody, so importing
the codecs never drags in xarray or pandas.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CodecError

__all__ = ["CODEC_KEY", "Codec", "CodecError"]
#: The JSON-schema extension key that names the codec of a field.
CODEC_KEY = "x-dasf-codec"


@dataclass(frozen=True, eq=False)  # identity hash: usable as a cache key
class Codec:
    """How one Python type travels as JSON."""

    name: str
    module: str  #: importable module that defines the type, e.g. ``"xarray"``
    type_name: str  #: attribute of ``module`` that is the type, e.g. ``"DataArray"``
    encode: Callable[[Any], Any]  #: object → JSON-able wire form
    decode: Callable[[Any], Any]  #: wire form (or a lenient alternative) → object
    json_schema: dict[str, Any] = field(default_factory=dict)

    def loaded_type(self) -> type | None:
        """The Python type if its module is already imported, else ``None``."""
        top = sys.modules.get(self.module)
        return None if top is None else getattr(top, self.type_name, None)

    def python_type(self) -> type:
        """The Python type, importing its module if needed."""
        found: type = getattr(importlib.import_module(self.module), self.type_name)
        return found

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the wire form, marked with :data:`CODEC_KEY`."""
        return {**self.json_schema, CODEC_KEY: self.name}


_BY_NAME: dict[str, Codec] = {}


def register(codec: Codec) -> Codec:
    """Add (or replace) a codec; later registrations win on type lookups."""
    _BY_NAME.pop(codec.name, None)
    _BY_NAME[codec.name] = codec
    return codec


def codec_by_name(name: str) -> Codec | None:
    """The codec registered under ``name`` (the ``x-dasf-codec`` value), if any."""
    return _BY_NAME.get(name)


def codec_for_type(tp: Any) -> Codec | None:
    """The codec whose type is exactly ``tp`` or a base class of it."""
    if not isinstance(tp, type):
        return None
    for codec in reversed(_BY_NAME.values()):
        loaded = codec.loaded_type()
        if loaded is not None and issubclass(tp, loaded):
            return codec
    return None


def codec_for_value(value: Any) -> Codec | None:
    """The codec that encodes ``value``, if any."""
    return codec_for_type(type(value))


def registered_codecs() -> list[Codec]:
    """All codecs, in registration order."""
    return list(_BY_NAME.values())
