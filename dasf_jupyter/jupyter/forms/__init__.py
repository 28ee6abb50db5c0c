"""Forms generated from a DASF ``api_info`` JSON schema (ipywidgets 8 core controls only).

>>> form = form_for(api_info, "add", runner=lambda request, sink: ...)  # doctest: +SKIP
"""

from .fields.base import EMPTY, Field, FieldContext, InvalidInput
from .forms import ClassForm, FunctionForm, ModuleForm, form_for
from .group import FieldGroup
from .progress import ProgressSink, report_fraction
from .registry import FIELD_TYPES, build_field, schema_kind
from .run_panel import Runner
from .schema import SchemaError

__all__ = [
    "EMPTY",
    "FIELD_TYPES",
    "ClassForm",
    "Field",
    "FieldContext",
    "FieldGroup",
    "FunctionForm",
    "InvalidInput",
    "ModuleForm",
    "ProgressSink",
    "Runner",
    "SchemaError",
    "build_field",
    "form_for",
    "report_fraction",
    "schema_kind",
]
