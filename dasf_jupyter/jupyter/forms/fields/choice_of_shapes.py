"""Fields that wrap other fields: Optional (a "None" switch) and unions (a type selector)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..schema import resolve, split_optional
from .base import EMPTY, Field, InvalidInput, label_html, meta_html


class OptionalField(Field):
    """``anyOf: [X, null]``: the label, a "not set" switch, and X's control once it is set."""

    def build(self) -> w.Widget:
        inner_schema = split_optional(self.schema) or {}
        self.inner = self.ctx.field_for(
            inner_schema, name=self.name, required=self.required, bare=True
        )
        self.inner.blank_is_empty = True  # a blank Optional[str] means None, not ""
        self.none = w.Checkbox(value=True, description="not set", indent=False)
        self.none.tooltip = "untick to enter a value; ticked, the argument is None"
        self.none.layout.width = "6.5em"
        self.none.add_class("dasf-not-set")
        self.none.observe(lambda _change: self._sync(), "value")
        self._sync()
        parts: list[w.Widget] = [] if self.bare else [self.label_column()]
        row = w.HBox([*parts, self.none, self.inner], layout=w.Layout(align_items="center"))
        row.add_class("dasf-field")
        return row

    def _sync(self) -> None:
        # the inner control is hidden rather than disabled: composite fields have no
        # single "disabled" switch, and a hidden control cannot be half-filled by mistake
        self.inner.layout.display = "none" if self.none.value else None
        if self.none.value:
            self.inner.show_message(None)

    def _null(self) -> Any:
        """What "no value" means: leave it out if that is the default, else send null."""
        return EMPTY if not self.required and self.schema.get("default") is None else None

    def read(self) -> Any:
        if self.none.value:
            return self._null()
        value = self.inner.read()
        return self._null() if value is EMPTY else value

    def set_value(self, value: Any) -> None:
        if value is None:
            self.none.value = True
        else:
            self.inner.set_value(value)
            self.none.value = False

    def validate(self, path: str) -> dict[str, str]:
        self.show_message(None)
        return {} if self.none.value else self.inner.validate(path)


def _branch_title(branch: dict[str, Any], index: int) -> str:
    """A short name for one union branch: its title, else its type, else its position."""
    kind = branch.get("format") or branch.get("type")
    return str(branch.get("title") or (kind if isinstance(kind, str) else f"option {index + 1}"))


class UnionField(Field):
    """``anyOf`` of several types: a selector for the type, then that type's field."""

    def build(self) -> w.Widget:
        branches = self.schema["anyOf"] if "anyOf" in self.schema else self.schema["oneOf"]
        self.branches = [
            self.ctx.field_for(b, name=self.name, required=self.required, bare=True)
            for b in branches
        ]
        titles = [_branch_title(resolve(b, self.ctx.defs), i) for i, b in enumerate(branches)]
        self.selector = w.ToggleButtons(options=list(zip(titles, range(len(titles)), strict=True)))
        self.selector.observe(lambda _change: self._sync(), "value")
        self.holder = w.VBox()
        self._sync()
        header = w.HTML(
            f"{label_html(self.title, self.required)} {meta_html(self.schema)}",
            tooltip=self.help or None,
        )
        return w.VBox([header, self.selector, self.holder])

    def _sync(self) -> None:
        self.holder.children = [self.branches[self.selector.value]]

    @property
    def active(self) -> Field:
        """The field of the selected type."""
        return self.branches[self.selector.value]

    def read(self) -> Any:
        return self.active.read()

    def set_value(self, value: Any) -> None:
        for index, branch in enumerate(self.branches):
            try:
                branch.set_value(value)
            except (InvalidInput, TypeError, ValueError, KeyError):
                continue
            if branch.own_message() is None:
                self.selector.value = index
                return
        raise InvalidInput(f"{value!r} fits none of the options")

    def validate(self, path: str) -> dict[str, str]:
        self.show_message(None)
        return self.active.validate(path)
