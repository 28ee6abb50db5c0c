"""The verified caller of a request, and finding the function parameters that receive it."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """The verified identity of a request's sender (a parameter typed ``Caller`` gets it)."""

    fingerprint: str
    name: str | None
    public_key: str


def _is_caller_type(annotation: object) -> bool:
    if annotation is Caller:
        return True
    # Optional[Caller] / Caller | None: the parameter gets None for anonymous requests
    args = typing.get_args(annotation)
    return bool(args) and Caller in args and all(a in (Caller, type(None)) for a in args)


def caller_parameters(func: Callable) -> list[str]:
    """Names of ``func``'s parameters annotated ``Caller`` (or ``Caller | None``).

    The backend leaves them out of the RPC schema and fills them with the verified caller.
    """
    try:
        hints = typing.get_type_hints(func)
    except (NameError, TypeError):
        hints = {}
    names = []
    for name, param in inspect.signature(func).parameters.items():
        annotation = hints.get(name, param.annotation)
        if _is_caller_type(annotation):
            names.append(name)
    return names
