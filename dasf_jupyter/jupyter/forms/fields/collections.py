"""Fields for JSON arrays, maps and nested objects (pydantic models via ``$ref``)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from .base import EMPTY, HELP_STYLE, Field, InvalidInput, label_html, meta_html

_BOX = w.Layout(border="1px solid var(--jp-border-color2)", padding="4px 8px", margin="2px 0")
_NUMERIC = {"integer": int, "number": float}


def _header(field: Field) -> w.HTML:
    """The bold label line of a composite field (description as tooltip and help text)."""
    help_text = ""
    if field.help:
        help_text = f' <span style="{HELP_STYLE}">{html.escape(field.help)}</span>'
    text = label_html(field.title, field.required) + " " + meta_html(field.schema) + help_text
    return w.HTML(text, tooltip=field.help or None)


def _small_button(text: str, tooltip: str) -> w.Button:
    return w.Button(description=text, tooltip=tooltip, layout=w.Layout(width="auto"))


class ListField(Field):
    """An array: rows of the item field with add/remove; numeric lists also take pasted text."""

    def build(self) -> w.Widget:
        self.item_schema = self.schema.get("items", {})
        self.rows = w.VBox()
        self.items: list[Field] = []
        add = _small_button("+ add", "add an item")
        add.on_click(lambda _b: self.add_item())
        parts: list[w.Widget] = [_header(self), self.rows, add]
        item_type = self.item_schema.get("type")
        if item_type in _NUMERIC:
            self.paste = w.Text(
                placeholder="or paste: 1, 2, 3", continuous_update=False, description="paste"
            )
            self.paste.observe(lambda _change: self._paste(), "value")
            parts.insert(2, self.paste)
        return w.VBox(parts, layout=_BOX)

    def add_item(self, value: Any = EMPTY) -> Field:
        """Append a row (optionally filled with ``value``) and return its field."""
        item = self.ctx.field_for(self.item_schema, name="item", required=True, bare=True)
        if value is not EMPTY:
            item.set_value(value)
        remove = _small_button("✕", "remove this item")
        row = w.HBox([item, remove])
        remove.on_click(lambda _b: self._remove(item, row))
        self.items.append(item)
        self.rows.children = (*self.rows.children, row)
        return item

    def _remove(self, item: Field, row: w.Widget) -> None:
        self.items.remove(item)
        self.rows.children = tuple(r for r in self.rows.children if r is not row)

    def _paste(self) -> None:
        text = self.paste.value.strip()
        if not text:
            return
        try:
            values = parse_numbers(text, _NUMERIC[self.item_schema["type"]])
        except InvalidInput as exc:
            self.show_message(str(exc))
            return
        self.set_value(values)
        self.show_message(None)
        self.paste.value = ""

    def read(self) -> Any:
        return [v for v in (item.read() for item in self.items) if v is not EMPTY]

    def set_value(self, value: Any) -> None:
        if not isinstance(value, (list, tuple)):
            raise InvalidInput(f"{value!r} is not a list")
        self.items, self.rows.children = [], ()
        for item in value:
            self.add_item(item)

    def check(self, value: Any) -> str | None:
        if len(value) < self.schema.get("minItems", 0):
            return f"needs at least {self.schema['minItems']} items"
        if "maxItems" in self.schema and len(value) > self.schema["maxItems"]:
            return f"allows at most {self.schema['maxItems']} items"
        return None

    def validate(self, path: str) -> dict[str, str]:
        problems: dict[str, str] = {}
        for index, item in enumerate(self.items):
            problems.update(item.validate(f"{path}[{index}]"))
        return {**problems, **super().validate(path)}


def parse_numbers(text: str, kind: type) -> list[Any]:
    """Comma/whitespace/semicolon separated numbers, e.g. pasted from a spreadsheet."""
    tokens = [t for t in text.replace(";", ",").replace("\n", ",").split(",") if t.strip()]
    tokens = [part for t in tokens for part in t.split()]
    try:
        return [kind(t) for t in tokens]
    except ValueError as exc:
        raise InvalidInput(f"cannot read {kind.__name__} values from {text!r}: {exc}") from exc


class DictField(Field):
    """A map with free keys: rows of (key text, value field) with add/remove."""

    def build(self) -> w.Widget:
        extra = self.schema.get("additionalProperties", {})
        self.value_schema = extra if isinstance(extra, dict) else {}
        self.rows = w.VBox()
        self.entries: list[tuple[w.Text, Field]] = []
        add = _small_button("+ add", "add a key")
        add.on_click(lambda _b: self.add_entry())
        return w.VBox([_header(self), self.rows, add], layout=_BOX)

    def add_entry(self, key: str = "", value: Any = EMPTY) -> Field:
        """Append a key/value row and return the value's field."""
        key_text = w.Text(value=key, placeholder="key", layout=w.Layout(width="12em"))
        item = self.ctx.field_for(self.value_schema, name="value", required=True, bare=True)
        if value is not EMPTY:
            item.set_value(value)
        remove = _small_button("✕", "remove this key")
        row = w.HBox([key_text, item, remove])
        entry = (key_text, item)
        remove.on_click(lambda _b: self._remove(entry, row))
        self.entries.append(entry)
        self.rows.children = (*self.rows.children, row)
        return item

    def _remove(self, entry: tuple[w.Text, Field], row: w.Widget) -> None:
        self.entries.remove(entry)
        self.rows.children = tuple(r for r in self.rows.children if r is not row)

    def read(self) -> Any:
        result: dict[str, Any] = {}
        for key_text, item in self.entries:
            key = key_text.value.strip()
            if not key:
                raise InvalidInput("every entry needs a key")
            if key in result:
                raise InvalidInput(f"the key {key!r} appears twice")
            value = item.read()
            if value is not EMPTY:
                result[key] = value
        return result

    def set_value(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise InvalidInput(f"{value!r} is not a mapping")
        self.entries, self.rows.children = [], ()
        for key, item in value.items():
            self.add_entry(str(key), item)

    def validate(self, path: str) -> dict[str, str]:
        problems: dict[str, str] = {}
        for key_text, item in self.entries:
            problems.update(item.validate(f"{path}[{key_text.value.strip()}]"))
        return {**problems, **super().validate(path)}


class ObjectField(Field):
    """A nested model (``properties``): its fields in a bordered group."""

    def build(self) -> w.Widget:
        from ..group import FieldGroup  # the group builds fields, which may be objects again

        self.group = FieldGroup(self.schema, self.ctx)
        return w.VBox([_header(self), self.group], layout=_BOX)

    def read(self) -> Any:
        return self.group.read()

    def set_value(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise InvalidInput(f"{value!r} is not a mapping")
        self.group.set_value(value)

    def validate(self, path: str) -> dict[str, str]:
        self.show_message(None)
        return self.group.validate(prefix=f"{path}.")
