"""Fields for single JSON values: numbers, text, booleans and fixed choices."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import ipywidgets as w

from .base import EMPTY, Field, InvalidInput

_BOUND_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def number_problem(value: float, schema: dict[str, Any]) -> str | None:
    """A message if ``value`` breaks a numeric constraint of ``schema``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if "minimum" in schema and value < schema["minimum"]:
        return f"must be ≥ {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"must be ≤ {schema['maximum']}"
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return f"must be > {schema['exclusiveMinimum']}"
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return f"must be < {schema['exclusiveMaximum']}"
    step = schema.get("multipleOf")
    if step and not math.isclose(value / step, round(value / step), abs_tol=1e-9):
        return f"must be a multiple of {step}"
    return None


class _NumberField(Field):
    """Shared logic of int and float fields: bounded control when the schema has bounds."""

    plain: type[w.Widget]
    bounded: type[w.Widget]
    limit: float

    def build(self) -> w.Widget:
        schema = self.schema
        if any(key in schema for key in _BOUND_KEYS):
            low = schema.get("minimum", schema.get("exclusiveMinimum", -self.limit))
            high = schema.get("maximum", schema.get("exclusiveMaximum", self.limit))
            self.control = self.bounded(min=low, max=high, value=self._start(low, high))
        else:
            self.control = self.plain()
        return self.describe(self.control)

    def _start(self, low: float, high: float) -> float:
        """A starting value inside the bounds (0 if allowed); the schema default replaces it."""
        return min(max(0, low), high)

    def read(self) -> Any:
        return self.control.value

    def set_value(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{value!r} is not a number")
        self.control.value = value

    def check(self, value: Any) -> str | None:
        return number_problem(value, self.schema)


class IntField(_NumberField):
    """An integer: IntText, or BoundedIntText when the schema has bounds."""

    plain, bounded = w.IntText, w.BoundedIntText
    limit = 2**53 - 1  # largest integer a browser number represents exactly


class FloatField(_NumberField):
    """A float: FloatText, or BoundedFloatText when the schema has bounds."""

    plain, bounded = w.FloatText, w.BoundedFloatText
    limit = sys.float_info.max


class TextField(Field):
    """A string: Text, or Textarea for long text; ``pattern`` and lengths are checked."""

    def build(self) -> w.Widget:
        default = self.schema.get("default")
        long_text = self.schema.get("maxLength", 0) > 120 or "\n" in str(default or "")
        self.control = (w.Textarea if long_text else w.Text)()
        return self.describe(self.control)

    def read(self) -> Any:
        text = self.control.value
        return EMPTY if text == "" and self.blank_is_empty else text

    def set_value(self, value: Any) -> None:
        self.control.value = str(value)

    def check(self, value: Any) -> str | None:
        schema = self.schema
        if len(value) < schema.get("minLength", 0):
            return f"needs at least {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"allows at most {schema['maxLength']} characters"
        pattern = schema.get("pattern")
        if pattern and re.search(pattern, value) is None:
            return f"must match the pattern {pattern}"
        return None


class BoolField(Field):
    """A boolean as a Checkbox."""

    def build(self) -> w.Widget:
        self.control = w.Checkbox(indent=False)
        return self.describe(self.control)

    def read(self) -> Any:
        return bool(self.control.value)

    def set_value(self, value: Any) -> None:
        self.control.value = bool(value)


class ChoiceField(Field):
    """One of fixed values (``enum``, ``Literal``, ``const``) as a Dropdown."""

    def build(self) -> w.Widget:
        choices = self.schema["enum"] if "enum" in self.schema else [self.schema["const"]]
        self.choices = list(choices)
        self.control = w.Dropdown(options=[(str(c), c) for c in self.choices], value=None)
        if len(self.choices) == 1:
            self.control.value = self.choices[0]  # nothing to choose
        return self.describe(self.control)

    def read(self) -> Any:
        return EMPTY if self.control.index is None else self.control.value

    def set_value(self, value: Any) -> None:
        if value not in self.choices:
            raise InvalidInput(f"{value!r} is not one of {self.choices}")
        self.control.value = value

    def check(self, value: Any) -> str | None:
        return None if value in self.choices else f"must be one of {self.choices}"
