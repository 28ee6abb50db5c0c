"""Date, date-time and time pickers; values are ``datetime`` objects, defaults ISO strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as w

from .base import EMPTY, Field, InvalidInput


def parse_iso(value: Any, kind: type[dt.date] | type[dt.time]) -> Any:
    """``value`` as a ``date``/``datetime``/``time``; ISO strings (JSON defaults) are parsed."""
    if isinstance(value, kind):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{value!r} is not an ISO {kind.__name__}")
    try:
        # Python 3.10 does not read a trailing "Z"; pydantic writes it for UTC
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        return kind.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an ISO {kind.__name__}") from exc


class _PickerField(Field):
    """A picker whose empty state is ``None``."""

    picker: type[w.Widget]
    kind: type

    def build(self) -> w.Widget:
        self.control = self.picker()
        return self.describe(self.control)

    def read(self) -> Any:
        return EMPTY if self.control.value is None else self.control.value

    def set_value(self, value: Any) -> None:
        self.control.value = self.convert(parse_iso(value, self.kind))

    def convert(self, value: Any) -> Any:
        """Adapt a parsed value to what the picker accepts."""
        return value


class DateField(_PickerField):
    """``format: date`` as a DatePicker."""

    picker, kind = w.DatePicker, dt.date

    def convert(self, value: Any) -> Any:
        return value.date() if isinstance(value, dt.datetime) else value


class DateTimeField(_PickerField):
    """``format: date-time`` as a NaiveDatetimePicker (aware defaults are shown in UTC)."""

    picker, kind = w.NaiveDatetimePicker, dt.datetime

    def convert(self, value: Any) -> Any:
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value


class TimeField(_PickerField):
    """``format: time`` as a TimePicker."""

    picker, kind = w.TimePicker, dt.time
