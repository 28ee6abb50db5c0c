"""What a field's label column says: the name (with units), the type and the default.

Labels keep the parameter name as the author wrote it (``wind_kmh``, not "Wind Kmh"); units
come from the parameter's docstring text ("wind speed [km/h]", "… in km/h", "units: K").
"""

from __future__ import annotations

import re
from typing import Any

#: unit spelled in the description: ``[km/h]``, ``(km/h)`` at the end, ``unit(s): K``,
#: or a trailing ``in km/h`` whose unit is short and has no spaces
_UNIT_PATTERNS = (
    re.compile(r"\[([^\[\]\s][^\[\]]{0,15})\]"),
    re.compile(r"\bunits?\s*[:=]\s*([^\s,;]{1,16})", re.IGNORECASE),
    re.compile(r"\(([^()\s]{1,12})\)\s*\.?\s*$"),
    re.compile(r"\bin\s+([^\s,;()]{1,12}?)\s*\.?\s*$"),
)
_TYPE_NAMES = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
_FORMAT_NAMES = {"date": "date", "date-time": "datetime", "time": "time"}
_MAX_DEFAULT = 40
#: longer lists of choices are left to the drop-down, which shows them anyway
_MAX_CHOICES = 30


def units_from(description: str) -> str | None:
    """The unit a parameter description names, or ``None``."""
    first = description.strip().split("\n\n")[0].strip()
    for pattern in _UNIT_PATTERNS:
        found = pattern.search(first)
        if found:
            unit = found.group(1).strip()
            # "in the north" / "in metres" are prose; units are short symbols or have / ° ^
            if pattern is _UNIT_PATTERNS[3] and not _looks_like_unit(unit):
                continue
            return unit
    return None


def _looks_like_unit(word: str) -> bool:
    return any(c in word for c in "/°^%·*") or len(word) <= 3 or word.lower() in _UNIT_WORDS


_UNIT_WORDS = {"kelvin", "celsius", "metres", "meters", "seconds", "hours", "days", "degrees"}


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def is_generated_title(name: str, title: str) -> bool:
    """Whether ``title`` is pydantic's automatic one (``wind_kmh`` → ``Wind Kmh``)."""
    return title in (name.title().replace("_", " "), name.replace("_", " ").title())


def label_for(name: str, schema: dict[str, Any]) -> str:
    """``wind_kmh`` + "wind speed [km/h]" → ``wind (km/h)``; an explicit title wins."""
    title = str(schema.get("title") or "")
    if title and not is_generated_title(name, title):
        return title
    unit = units_from(str(schema.get("description") or ""))
    if not unit:
        return name
    stem, sep, suffix = name.rpartition("_")
    if sep and stem and _letters(suffix) == _letters(unit):
        name = stem  # the unit is already in the name: show it once, spelled properly
    return f"{name} ({unit})"


def type_text(schema: dict[str, Any]) -> str:  # noqa: PLR0911 (one return per schema shape)
    """A short Python-like type: ``float``, ``int | None``, ``'a' | 'b'``, ``list[float]``."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        return " | ".join(dict.fromkeys(type_text(b) for b in branches))
    if "enum" in schema:
        choices = " | ".join(repr(v) for v in schema["enum"])
        return choices if len(choices) <= _MAX_CHOICES else f"one of {len(schema['enum'])}"
    if "const" in schema:
        return repr(schema["const"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "x-dasf-codec" in schema:
        return str(schema["x-dasf-codec"]).split("/", 1)[0].rsplit(".", 1)[-1]
    kind = schema.get("type")
    if kind == "null":
        return "None"
    if kind == "string" and schema.get("format") in _FORMAT_NAMES:
        return _FORMAT_NAMES[schema["format"]]
    if kind == "array":
        return f"list[{type_text(schema.get('items') or {})}]"
    if kind == "object":
        return str(schema.get("title") or "dict")
    if isinstance(kind, str):
        return _TYPE_NAMES.get(kind, kind)
    return "any"


def default_text(schema: dict[str, Any]) -> str | None:
    """The schema default as short Python-like text, ``None`` when there is none."""
    if "default" not in schema:
        return None
    text = repr(schema["default"])  # None, True, 'text', 2.5 as Python writes them
    return text if len(text) <= _MAX_DEFAULT else text[: _MAX_DEFAULT - 1] + "…"
