"""Fields for single JSON values: numbers, text, booleans and fixed choices."""

from __future__ import annotations

import math
import re
from typing import Any

import ipywidgets as w

from .base import CONTROL_WIDTH, EMPTY, Field, InvalidInput

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
    """Shared logic of int and float fields: a text box that starts empty.

    A number widget always holds a number, so a required argument would be sent as a silent
    0; here an empty box is "nothing entered" and a required one blocks the Run button.
    """

    kind: type
    #: what the empty box says when it has no bounds
    hint: str

    def build(self) -> w.Widget:
        self.control = w.Text(placeholder=self._placeholder(), continuous_update=False)
        self.control.layout.width = CONTROL_WIDTH
        return self.describe(self.control)

    def _placeholder(self) -> str:
        low = self.schema.get("minimum", self.schema.get("exclusiveMinimum"))
        high = self.schema.get("maximum", self.schema.get("exclusiveMaximum"))
        if low is None and high is None:
            return self.hint
        return f"{self.hint}, {'' if low is None else low} … {'' if high is None else high}"

    def read(self) -> Any:
        text = self.control.value.strip()
        if not text:
            return EMPTY
        try:
            return self.parse(text)
        except ValueError:
            raise InvalidInput(f"{text!r} is not {self.hint}") from None

    def parse(self, text: str) -> Any:
        return self.kind(text)

    def set_value(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{value!r} is not a number")
        if self.kind is int and isinstance(value, float):
            if not value.is_integer():
                raise InvalidInput(f"{value!r} is not a whole number")
            value = int(value)
        self.control.value = repr(self.kind(value))

    def check(self, value: Any) -> str | None:
        return number_problem(value, self.schema)


class IntField(_NumberField):
    """An integer, typed as text (``12``, ``-3``, ``1_000``)."""

    kind, hint = int, "a whole number"


class FloatField(_NumberField):
    """A float, typed as text (``2.5``, ``1e-3``); integers are accepted."""

    kind, hint = float, "a number"

    def parse(self, text: str) -> Any:
        return float(text)


class TextField(Field):
    """A string: Text, or Textarea for long text; ``pattern`` and lengths are checked."""

    def build(self) -> w.Widget:
        default = self.schema.get("default")
        long_text = self.schema.get("maxLength", 0) > 120 or "\n" in str(default or "")
        self.control = (w.Textarea if long_text else w.Text)()
        self.control.layout.width = CONTROL_WIDTH
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
        self.control.layout.width = CONTROL_WIDTH
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
