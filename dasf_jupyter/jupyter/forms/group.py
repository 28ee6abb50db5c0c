"""A group of fields for the properties of one object schema (call arguments, nested models)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from .fields.base import EMPTY, Field, FieldContext, InvalidInput
from .schema import visible_properties


class FieldGroup(w.VBox):
    """One field per visible property; hidden ones (discriminators, reporters) are skipped."""

    def __init__(self, schema: dict[str, Any], ctx: FieldContext) -> None:
        self.schema = schema
        self.fields: dict[str, Field] = {
            name: ctx.field_for(prop, name=name, required=required)
            for name, prop, required in visible_properties(schema)
        }
        super().__init__(children=list(self.fields.values()))

    def read(self) -> dict[str, Any]:
        """The entered values; empty optional entries are left out. May raise InvalidInput."""
        values = {name: field.read() for name, field in self.fields.items()}
        return {name: value for name, value in values.items() if value is not EMPTY}

    @property
    def value(self) -> dict[str, Any]:
        """The valid entered values (fields with unreadable input are left out)."""
        values = {name: field.value for name, field in self.fields.items()}
        return {name: value for name, value in values.items() if value is not EMPTY}

    def set_value(self, values: dict[str, Any]) -> None:
        """Fill the fields named in ``values``; unknown names are an error."""
        unknown = set(values) - set(self.fields)
        if unknown:
            raise InvalidInput(f"no field named {', '.join(sorted(unknown))}")
        for name, value in values.items():
            self.fields[name].set_value(value)

    def validate(self, prefix: str = "") -> dict[str, str]:
        """``{field path: message}`` of every invalid field; messages appear next to them."""
        problems: dict[str, str] = {}
        for name, field in self.fields.items():
            problems.update(field.validate(prefix + name))
        return problems
