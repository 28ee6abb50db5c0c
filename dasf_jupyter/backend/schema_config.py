"""Per-member options for the schema builder, and the ``configure`` decorator that sets them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")

#: attribute that :func:`configure` sets on a function or class
CONFIG_ATTR = "__dasf_config__"


@dataclass
class MemberConfig:
    """Options for one function or class of a backend module."""

    #: extra pydantic ``Field`` arguments per parameter, e.g. ``{"a": {"ge": 0}}``
    field_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: extra pydantic ``Field`` arguments for the return value
    returns: dict[str, Any] = field(default_factory=dict)
    #: classes only: the methods to expose (default: all public methods)
    methods: list[str] | None = None
    #: merged into the member's JSON schema
    json_schema_extra: dict[str, Any] = field(default_factory=dict)


def configure(**options: Any) -> Callable[[T], T]:
    """Decorator that attaches a :class:`MemberConfig` to a function or class."""
    config = MemberConfig(**options)

    def decorate(obj: T) -> T:
        setattr(obj, CONFIG_ATTR, config)
        return obj

    return decorate


def config_of(obj: Any, explicit: MemberConfig | None = None) -> MemberConfig:
    """The config for ``obj``: explicit, else ``configure``d, else demessaging's, else empty."""
    if explicit is not None:
        return explicit
    own = getattr(obj, CONFIG_ATTR, None)
    if isinstance(own, MemberConfig):
        return own
    # demessaging's @configure stores a pydantic model; reuse the options we understand
    ref = getattr(obj, "__pulsar_config__", None)
    if ref is not None:
        names = {f.name for f in fields(MemberConfig)}
        found = {n: getattr(ref, n) for n in names if getattr(ref, n, None)}
        return MemberConfig(**found)
    return MemberConfig()
