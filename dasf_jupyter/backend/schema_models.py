"""Functions and classes → pydantic request and return models, named like the reference."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from ..codecs import encode_value, pydantic_type_for
from .docstrings import parse_doc
from .schema_config import MemberConfig, config_of
from .schema_params import (
    SchemaError,
    SignatureFields,
    discriminator_field,
    resolved_hints,
    signature_fields,
    snake_to_camel,
)


class RequestModel(BaseModel):
    """Base of generated request models: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ReturnModel(RootModel[Any]):
    """Base of generated return-value models."""


@dataclass
class FunctionEntry:
    """A served function or method: its request model, return model and call details."""

    name: str
    func: Callable
    model: type[BaseModel]
    return_model: type[RootModel]
    signature: SignatureFields

    def api_info(self) -> dict[str, Any]:
        """The reference's ``FunctionAPIModel`` as a dict."""
        return {
            "name": self.name,
            "rpc_schema": self.model.model_json_schema(),
            "return_schema": self.return_model.model_json_schema(),
        }

    def encode_result(self, value: Any) -> Any:
        """Validate ``value`` against the return annotation and make it JSON-able."""
        validated = self.return_model.model_validate(value)
        return validated.model_dump(mode="json", fallback=encode_value)


@dataclass
class ClassEntry:
    """A served class: constructor model, one FunctionEntry per method, full request model."""

    name: str
    cls: type
    model: type[BaseModel]  #: constructor + ``function`` (union of method models)
    constructor_model: type[BaseModel]
    signature: SignatureFields
    methods: dict[str, FunctionEntry] = field(default_factory=dict)

    def api_info(self) -> dict[str, Any]:
        """The reference's ``ClassAPIModel`` as a dict."""
        return {
            "name": self.name,
            "rpc_schema": self.constructor_model.model_json_schema(),
            "methods": [m.api_info() for m in self.methods.values()],
        }


def _create(model_name: str, owner: str, /, **kwargs: Any) -> Any:
    try:
        return create_model(model_name, **kwargs)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise SchemaError(f"{owner}: cannot build a schema: {exc}") from None


def _check_schema(model: type[BaseModel], owner: str) -> None:
    try:
        model.model_json_schema()
    except Exception as exc:  # e.g. PydanticInvalidForJsonSchema for exotic annotations
        raise SchemaError(f"{owner}: cannot build a JSON schema: {exc}") from None


def build_function(
    func: Callable,
    config: MemberConfig | None = None,
    model_name: str | None = None,
    skip_first: bool = False,
) -> FunctionEntry:
    """Build the ``Func<Name>`` (or ``MethClass…``) models of a function or method."""
    name = func.__name__
    owner = getattr(func, "__qualname__", name)
    config = config_of(func, config)
    model_name = model_name or snake_to_camel("Func", name)
    doc = parse_doc(func)
    sig = signature_fields(func, owner, doc, config, ("func_name",), skip_first=skip_first)
    model = _create(
        model_name,
        owner,
        __base__=RequestModel,
        __doc__=doc.description or None,
        __module__=getattr(func, "__module__", __name__),
        func_name=discriminator_field("func_name", name),
        **sig.fields,
    )
    _apply_schema_extra(model, config)
    _check_schema(model, owner)
    return_model = _return_model(func, owner, model_name, doc.returns, config)
    return FunctionEntry(name, func, model, return_model, sig)


def _return_model(
    func: Callable, owner: str, model_name: str, description: str, config: MemberConfig
) -> type[RootModel]:
    hints = resolved_hints(func, owner)
    annotation = hints.get("return", Any)
    if annotation is None or annotation is type(None):
        annotation = Any  # the reference treats "-> None" as Any as well
    kws: dict[str, Any] = {"default": None, **config.returns}
    if description:
        kws["description"] = description
    model = _create(
        model_name,
        f"{owner} (return value)",
        __base__=ReturnModel,
        __doc__=description or None,
        root=(pydantic_type_for(annotation), Field(**kws)),
    )
    _check_schema(model, f"{owner} (return value)")
    return model


def _apply_schema_extra(model: type[BaseModel], config: MemberConfig) -> None:
    if config.json_schema_extra:
        model.model_config["json_schema_extra"] = config.json_schema_extra


def public_methods(cls: type) -> list[str]:
    """Names of the public functions defined on ``cls`` (and its bases), in definition order."""
    return [
        name
        for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
        if not name.startswith("_")
    ]


def build_class(
    cls: type, config: MemberConfig | None = None, method_configs: dict | None = None
) -> ClassEntry:
    """Build ``Class<Name>`` (with ``function``) and ``MethClass<Name><Method>`` models."""
    name = cls.__name__
    config = config_of(cls, config)
    model_name = snake_to_camel("Class", name)
    doc = parse_doc(cls)
    init = cls.__init__  # type: ignore[misc]  # the class's own, read, never called here
    init_doc = parse_doc(init) if init is not object.__init__ else parse_doc("")
    if init is object.__init__:
        sig = SignatureFields({}, [])
    else:
        sig = signature_fields(
            init, name, doc.merged(init_doc), config, ("class_name", "function"), skip_first=True
        )
    methods = _build_methods(cls, model_name, config, method_configs or {})
    fields = {"class_name": discriminator_field("class_name", name), **sig.fields}
    common = {
        "__base__": RequestModel,
        "__doc__": doc.description or None,
        "__module__": cls.__module__,
    }
    # the reference puts class_name after the constructor parameters
    ordered = {**sig.fields, "class_name": fields["class_name"]}
    constructor = _create(model_name, name, **common, **ordered)
    union: Any = Union[tuple(m.model for m in methods.values())]  # noqa: UP007
    model = _create(
        model_name,
        name,
        **common,
        **ordered,
        function=(union, Field(description="The method to call.")),
    )
    for m in (constructor, model):
        _apply_schema_extra(m, config)
        _check_schema(m, name)
    return ClassEntry(name, cls, model, constructor, sig, methods)


def _build_methods(
    cls: type, model_name: str, config: MemberConfig, method_configs: dict
) -> dict[str, FunctionEntry]:
    names = config.methods if config.methods is not None else public_methods(cls)
    if not names:
        raise SchemaError(
            f"{cls.__name__}: the class has no public methods to serve; add one or "
            "configure methods=[...]"
        )
    methods: dict[str, FunctionEntry] = {}
    for meth in names:
        raw = inspect.getattr_static(cls, meth, None)
        if raw is None or not callable(getattr(cls, meth)):
            raise SchemaError(f"{cls.__name__}: {meth!r} is not a method of the class")
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        methods[meth] = build_function(
            func,
            method_configs.get(f"{cls.__name__}.{meth}"),
            snake_to_camel("Meth", model_name, meth),
            skip_first=not isinstance(raw, staticmethod),
        )
    return methods
