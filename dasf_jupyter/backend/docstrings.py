"""Read descriptions from numpy- and Google-style docstrings."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import docstring_parser


@dataclass
class DocInfo:
    """What a docstring says about a callable."""

    description: str = ""  #: summary plus long description
    params: dict[str, str] = field(default_factory=dict)  #: parameter name → description
    returns: str = ""  #: description of the return value(s)

    def merged(self, other: DocInfo) -> DocInfo:
        """This doc with parameter descriptions from ``other`` added (class + ``__init__``)."""
        return DocInfo(self.description, {**other.params, **self.params}, self.returns)


def parse_doc(obj: object) -> DocInfo:
    """Parse the docstring of ``obj`` (an empty DocInfo if it has none)."""
    raw = obj if isinstance(obj, str) else inspect.getdoc(obj)
    if not raw:
        return DocInfo()
    try:
        doc = docstring_parser.parse(raw)
    except docstring_parser.ParseError:
        # a malformed section must not stop a module from being served
        return DocInfo(description=raw.strip())
    return DocInfo(
        description=_description(doc),
        params={p.arg_name: p.description or "" for p in doc.params if p.description},
        returns=_returns(doc),
    )


def _description(doc: docstring_parser.Docstring) -> str:
    text = doc.short_description or ""
    if doc.long_description:
        text += "\n\n" if doc.blank_after_short_description else "\n"
        text += doc.long_description
    return text.strip()


def _returns(doc: docstring_parser.Docstring) -> str:
    parts = [
        m.description
        for m in doc.meta
        if isinstance(m, docstring_parser.DocstringReturns) and m.description
    ]
    if len(parts) == 1:
        return parts[0].strip()
    return "\n".join(f"- {p}" for p in parts).strip()
