"""The field base class: one schema property as a control plus a red message line."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as w

from ....errors import DasfError
from ..labels import default_text, label_for, type_text
from ..schema import default_of


class _Empty:
    """Marker for "nothing entered"; such values are left out of the request."""

    _instance: _Empty | None = None

    def __new__(cls) -> _Empty:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "EMPTY"

    def __bool__(self) -> bool:
        return False


EMPTY: Any = _Empty()


class InvalidInput(DasfError, ValueError):
    """What the user typed cannot be turned into a value (e.g. text that is not a number)."""


@dataclass
class FieldContext:
    """What every field may need besides its own schema."""

    defs: dict[str, Any] = field(default_factory=dict)
    namespace: dict[str, Any] = field(default_factory=dict)
    depth: int = 0  #: nesting level of the field being built (guards recursive models)

    def field_for(
        self, schema: dict[str, Any], *, name: str, required: bool, bare: bool = False
    ) -> Field:
        """Build the field widget for ``schema`` (nested fields use this, too)."""
        from ..registry import build_field  # the registry imports every field module

        return build_field(schema, self, name=name, required=required, bare=bare)


# JupyterLab theme variables: readable in light and dark themes alike
ERROR_STYLE = "color:var(--jp-error-color1);font-size:90%"
HELP_STYLE = "color:var(--jp-ui-font-color2);font-size:90%"
META_STYLE = "color:var(--jp-ui-font-color2);font-size:85%;font-family:var(--jp-code-font-family)"
#: width of the label column, so that the controls of a form line up
LABEL_WIDTH = "13em"
#: width of text boxes and drop-downs (a column of equal controls reads as a table)
CONTROL_WIDTH = "16em"


def label_html(text: str, required: bool) -> str:
    """A bold label, with a red asterisk when required."""
    star = f' <span style="{ERROR_STYLE}" title="required">*</span>' if required else ""
    return f"<b>{html.escape(text)}</b>{star}"


def meta_html(schema: dict[str, Any]) -> str:
    """The type and default of a field in small monospace text (``float = 288.0``)."""
    text = type_text(schema)
    default = default_text(schema)
    if default is not None:
        text += f" = {default}"
    return f'<span style="{META_STYLE}">{html.escape(text)}</span>'


class Field(w.VBox):
    """Base of all fields; subclasses build a control and convert its state to a value."""

    def __init__(
        self,
        schema: dict[str, Any],
        ctx: FieldContext,
        *,
        name: str,
        required: bool,
        bare: bool = False,
    ) -> None:
        self.schema = schema
        self.ctx = ctx
        self.name = name
        self.required = required
        #: no label column of its own (an Optional wrapper shows the label instead)
        self.bare = bare
        #: whether blank text counts as "nothing entered" (else it is the empty string)
        self.blank_is_empty = required
        self.title = label_for(name, schema)
        self.label = self.title + (" *" if required else "")
        self.help = str(schema.get("description") or "")
        # under the control, not under the label
        self.error = w.HTML(layout=w.Layout(margin=f"0 0 0 {'0' if bare else LABEL_WIDTH}"))
        super().__init__(children=[self.build(), self.error])
        if "default" in schema and schema["default"] is not None:
            try:
                self.set_value(default_of(schema))
            except (InvalidInput, TypeError, ValueError) as exc:
                # a default that does not fit its own schema: say so, do not break the form
                self.show_message(f"the default {schema['default']!r} was not usable: {exc}")

    # -- what subclasses implement ---------------------------------------------------------
    def build(self) -> w.Widget:
        """Create the control(s) of this field."""
        raise NotImplementedError

    def read(self) -> Any:
        """The entered value, ``EMPTY`` if nothing was entered; may raise InvalidInput."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        """Show ``value`` (a Python or JSON value) in the control."""
        raise NotImplementedError

    def check(self, value: Any) -> str | None:
        """A message if ``value`` breaks a schema constraint, else ``None``."""
        return None

    # -- shared behaviour ------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The current value as a Python object, ``EMPTY`` when nothing (valid) is entered."""
        try:
            return self.read()
        except InvalidInput:
            return EMPTY

    def own_message(self) -> str | None:
        """The problem with this field's own value (not its children's), if any."""
        try:
            value = self.read()
        except InvalidInput as exc:
            return str(exc)
        if value is EMPTY:
            return "required" if self.required else None
        return self.check(value)

    def validate(self, path: str) -> dict[str, str]:
        """Check the field, show the message under it, return ``{path: message}`` if invalid."""
        message = self.own_message()
        self.show_message(message)
        return {path: message} if message else {}

    def recheck(self) -> None:
        """Update a message already shown once the user edits the field (no nagging before)."""
        if self.error.value:
            self.show_message(self.own_message())

    def show_message(self, message: str | None) -> None:
        """Show (or clear) the red message under the control."""
        self.error.value = (
            f'<span style="{ERROR_STYLE}">⚠ {html.escape(message)}</span>' if message else ""
        )

    def label_column(self) -> w.HTML:
        """Label (name, units, required star) over the type and default, at a fixed width."""
        column = w.HTML(
            f'<div style="line-height:1.3;padding:2px 0">'
            f"{label_html(self.title, self.required)}<br>{meta_html(self.schema)}</div>",
            layout=w.Layout(width=LABEL_WIDTH, min_width=LABEL_WIDTH),
        )
        column.add_class("dasf-field-label")
        return column

    def describe(self, control: w.Widget) -> w.Widget:
        """One form row: label column, ``control``, the description as readable help text."""
        control.tooltip = self.help or None
        control.observe(lambda _change: self.recheck(), "value")
        parts: list[w.Widget] = [] if self.bare else [self.label_column()]
        parts.append(control)
        if self.help:
            help_text = w.HTML(f'<span style="{HELP_STYLE}">{html.escape(self.help)}</span>')
            help_text.layout.margin = "0 0 0 8px"
            parts.append(help_text)
        row = w.HBox(parts, layout=w.Layout(align_items="center"))
        row.add_class("dasf-field")
        return row
