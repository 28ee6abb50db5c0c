"""Functions and classes → models, requests → calls, bad input → readable errors."""

from __future__ import annotations

import datetime as dt
import enum
import json
import textwrap
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dasf_jupyter.backend.progress import ProgressReporter
from dasf_jupyter.backend.schema import (
    MemberConfig,
    ModuleSchema,
    RequestValidationError,
    ResultValidationError,
    SchemaError,
    configure,
    load_members,
)
from dasf_jupyter.codecs import decode_by_schema, encode_by_schema, encode_value


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


class Box(BaseModel):
    w: float
    h: float


@configure(field_params={"a": {"ge": 0}})
def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


def everything(
    when: dt.datetime,
    day: dt.date,
    mode: Mode,
    kind: Literal["x", "y"],
    box: Box,
    tags: list[str],
    weights: dict[str, float],
    maybe: Optional[int] = None,
) -> dict:
    """Return what arrived, typed."""
    return {
        "when": when,
        "day": day,
        "mode": mode,
        "kind": kind,
        "box": box,
        "tags": tags,
        "weights": weights,
        "maybe": maybe,
    }


def scale(arr: np.ndarray, da: xr.DataArray, df: pd.DataFrame, s: pd.Series) -> xr.Dataset:
    """Combine array-like inputs into a Dataset."""
    return xr.Dataset(
        {"arr": ("i", arr * 2), "da": da * 2, "col": ("r", df["v"].to_numpy()), "s": ("r", s)}
    )


def with_reporter(n: int, reporter: ProgressReporter) -> str:
    """Uses a reporter."""
    return f"{n}:{reporter}"


def positional(a: int, /, b: int) -> int:
    """Positional-only parameters are passed positionally."""
    return a - b


class Greeter:
    """Greets people."""

    def __init__(self, name: str) -> None:
        """Set up.

        Parameters
        ----------
        name : str
            who to greet
        """
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        """Greet several times."""
        return [f"hi {self.name}"] * times

    @staticmethod
    def shout(word: str) -> str:
        """A static method."""
        return word.upper()

    def _private(self) -> None:
        """Not served."""


@pytest.fixture
def schema() -> ModuleSchema:
    return ModuleSchema(
        "probe", [add, everything, scale, with_reporter, positional, Greeter], "probe module"
    )


def test_function_call_runs_and_encodes(schema: ModuleSchema) -> None:
    call = schema.parse_request({"func_name": "add", "a": 2, "b": 3})
    assert (call.member, call.method, call.reporter_param) == ("add", None, None)
    assert call.encode_result(call.execute()) == 5


def test_defaults_are_filled_and_in_schema(schema: ModuleSchema) -> None:
    assert schema.parse_request({"func_name": "add", "a": 2}).execute() == 3
    props = schema.api_info()["functions"][0]["rpc_schema"]["properties"]
    assert props["b"]["default"] == 1
    assert props["a"]["minimum"] == 0  # from @configure field_params


def test_class_method_call(schema: ModuleSchema) -> None:
    call = schema.parse_request(
        {"class_name": "Greeter", "name": "Ada", "function": {"func_name": "greet", "times": 2}}
    )
    assert (call.member, call.method) == ("Greeter", "greet")
    assert call.encode_result(call.execute()) == ["hi Ada", "hi Ada"]
    static = schema.parse_request(
        {"class_name": "Greeter", "name": "x", "function": {"func_name": "shout", "word": "a"}}
    )
    assert static.execute() == "A"


def test_class_api_info_lists_public_methods_only(schema: ModuleSchema) -> None:
    (greeter,) = schema.api_info()["classes"]
    assert [m["name"] for m in greeter["methods"]] == ["greet", "shout"]
    assert greeter["rpc_schema"]["title"] == "ClassGreeter"
    assert greeter["rpc_schema"]["properties"]["name"]["description"] == "who to greet"
    assert greeter["methods"][0]["rpc_schema"]["title"] == "MethClassGreeterGreet"


def test_all_pydantic_types_validate_and_encode(schema: ModuleSchema) -> None:
    request = {
        "func_name": "everything",
        "when": "2024-05-01T12:00:00+00:00",
        "day": "2024-05-01",
        "mode": "slow",
        "kind": "y",
        "box": {"w": 1, "h": 2},
        "tags": ["a"],
        "weights": {"k": 0.5},
    }
    call = schema.parse_request(request)
    result = call.execute()
    assert result["mode"] is Mode.SLOW and isinstance(result["box"], Box)
    assert result["when"] == dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    encoded = json.loads(json.dumps(call.encode_result(result)))
    assert encoded["mode"] == "slow" and encoded["day"] == "2024-05-01"
    assert encoded["box"] == {"w": 1.0, "h": 2.0}


def test_array_types_go_through_client_encoding_and_back(schema: ModuleSchema) -> None:
    info = schema.api_info()
    fn = next(f for f in info["functions"] if f["name"] == "scale")
    rpc, ret = fn["rpc_schema"], fn["return_schema"]
    kwargs = {
        "arr": np.arange(3.0),
        "da": xr.DataArray([1.0, 2.0], dims="r"),
        "df": pd.DataFrame({"v": [5, 6]}),
        "s": pd.Series([7.0, 8.0]),
    }
    wire = {"func_name": "scale"}
    for key, value in kwargs.items():
        wire[key] = encode_by_schema(value, rpc["properties"][key], rpc.get("$defs"))
    call = schema.parse_request(json.loads(json.dumps(wire)))
    result_json = json.loads(json.dumps(call.encode_result(call.execute())))
    ds = decode_by_schema(result_json, ret)
    assert isinstance(ds, xr.Dataset)
    np.testing.assert_array_equal(ds["arr"].values, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(ds["col"].values, [5, 6])


def test_reporter_parameter_is_flagged_optional_and_supplied_by_runtime(
    schema: ModuleSchema,
) -> None:
    fn = next(f for f in schema.api_info()["functions"] if f["name"] == "with_reporter")
    assert fn["rpc_schema"]["properties"]["reporter"]["is_reporter"] is True
    assert "reporter" not in fn["rpc_schema"]["required"]
    call = schema.parse_request({"func_name": "with_reporter", "n": 1})
    assert call.reporter_param == "reporter"
    assert call.execute(reporter="R") == "1:R"
    # a report-config object from a reference client is accepted and ignored
    call = schema.parse_request(
        {"func_name": "with_reporter", "n": 2, "reporter": {"step_message": "x"}}
    )
    assert call.execute(reporter="R") == "2:R"
    with pytest.raises(RequestValidationError, match="reporter"):
        schema.parse_request({"func_name": "with_reporter", "n": 2, "reporter": 5})


def test_positional_only_parameters_work(schema: ModuleSchema) -> None:
    assert schema.parse_request({"func_name": "positional", "a": 5, "b": 2}).execute() == 3


@pytest.mark.parametrize(
    ("request_data", "expected"),
    [
        ({"func_name": "nope"}, "unknown function 'nope'.*function 'add'"),
        ({"func_name": "add", "a": "x"}, "add: a: Input should be a valid integer"),
        ({"func_name": "add"}, "add: a: Field required"),
        ({"func_name": "add", "a": -1}, "add: a: Input should be greater than or equal to 0"),
        ({"func_name": "add", "a": 1, "typo": 2}, "add: typo: Extra inputs are not permitted"),
        ({"a": 1}, "names no member"),
        ({"class_name": "Nope", "function": {}}, "unknown class 'Nope'"),
        ({"class_name": "Greeter", "name": "x"}, "'function' must be an object"),
        (
            {"class_name": "Greeter", "name": "x", "function": {"func_name": "_private"}},
            "unknown method '_private' of Greeter",
        ),
        (
            {"class_name": "Greeter", "function": {"func_name": "greet", "times": "z"}},
            "Greeter: name: Field required.*Greeter.greet: times",
        ),
        ([1, 2], "must be a JSON object"),
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ({"func_name": "scale", "arr": {"dtype": "|O", "shape": [1], "data": "AAAA"}}, "arr"),
    ],
)
def test_bad_requests_raise_readable_errors(
    schema: ModuleSchema, request_data: object, expected: str
) -> None:
    with pytest.raises(RequestValidationError, match=expected) as info:
        schema.parse_request(request_data)
    assert str(info.value).startswith("error validating request: ")


def test_wrong_return_value_is_reported() -> None:
    def liar() -> int:
        """Says int, returns text."""
        return "nope"  # type: ignore[return-value]

    call = ModuleSchema("t", [liar]).parse_request({"func_name": "liar"})
    with pytest.raises(ResultValidationError, match="liar"):
        call.encode_result(call.execute())


def test_untyped_function_accepts_anything_and_encodes_arrays() -> None:
    def untyped(x):
        return np.asarray(x)

    call = ModuleSchema("t", [untyped]).parse_request({"func_name": "untyped", "x": [1, 2]})
    assert call.encode_result(call.execute()) == encode_value(np.array([1, 2]))


def star_args(*values: int) -> int:
    return sum(values)


def star_kwargs(a: int, **extra: int) -> int:
    return a


class NoMethods:
    def __init__(self, a: int) -> None:
        self.a = a


def reserved(func_name: str) -> str:
    return func_name


class Opaque:
    """A plain class pydantic cannot describe."""


def opaque_param(x: Opaque) -> None:
    """Nope."""


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (star_args, r"\*values is not supported"),
        (star_kwargs, r"\*\*extra is not supported"),
        (NoMethods, "no public methods"),
        (reserved, "reserved"),
        (opaque_param, "opaque_param: cannot build a schema"),
    ],
)
def test_unsupported_signatures_are_refused_at_build_time(member: object, expected: str) -> None:
    with pytest.raises(SchemaError, match=expected):
        ModuleSchema("t", [member])


def test_duplicate_and_empty_modules_are_refused() -> None:
    with pytest.raises(SchemaError, match="two members"):
        ModuleSchema("t", [add, add])
    with pytest.raises(SchemaError, match="no functions"):
        ModuleSchema("t", [])


def test_explicit_config_mapping_applies() -> None:
    def f(a: int) -> int:
        return a

    s = ModuleSchema("t", [f], config={"f": MemberConfig(field_params={"a": {"le": 3}})})
    with pytest.raises(RequestValidationError, match="less than or equal to 3"):
        s.parse_request({"func_name": "f", "a": 4})


def test_string_annotations_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "future_mod.py"
    path.write_text(
        textwrap.dedent(
            '''
            """A module with postponed annotations."""
            from __future__ import annotations
            import numpy as np

            def total(arr: np.ndarray, k: int = 2) -> float:
                """Sum times k."""
                return float(arr.sum() * k)
            '''
        )
    )
    members, doc = load_members(str(path))
    s = ModuleSchema("t", members, doc)
    call = s.parse_request({"func_name": "total", "arr": [1, 2]})
    assert call.execute() == 6.0


def test_load_members_uses_all_or_own_public_members(tmp_path: Path) -> None:
    (tmp_path / "helper_mod.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "served.py").write_text(
        textwrap.dedent(
            '''
            """Served things."""
            import enum
            from pydantic import BaseModel
            from helper_mod import helper

            class Options(BaseModel):
                a: int = 1

            class Kind(enum.Enum):
                A = "a"

            def public(o: Options) -> int:
                return o.a

            def _hidden():
                pass

            class Tool:
                def run(self) -> int:
                    return 1
            '''
        )
    )
    members, doc = load_members(str(tmp_path / "served.py"))
    assert [m.__name__ for m in members] == ["public", "Tool"]
    assert doc == "Served things."
    (tmp_path / "with_all.py").write_text(
        "__all__ = ['b']\ndef a():\n    pass\ndef b():\n    pass\n"
    )
    members, _ = load_members(str(tmp_path / "with_all.py"))
    assert [m.__name__ for m in members] == ["b"]


def test_load_members_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot import module"):
        load_members("no_such_module_hopefully_xyz")
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(SchemaError, match="boom"):
        load_members(str(tmp_path / "broken.py"))
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(SchemaError, match="no public functions"):
        load_members(str(tmp_path / "empty.py"))
    (tmp_path / "bad_all.py").write_text("__all__ = ['missing']\n")
    with pytest.raises(SchemaError, match="missing"):
        load_members(str(tmp_path / "bad_all.py"))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_requests = (
    st.fixed_dictionaries(
        {"func_name": st.sampled_from(["add", "everything", "scale", "nope"])},
        optional={"a": _json, "arr": _json, "da": _json, "df": _json, "box": _json, "when": _json},
    )
    | _json
)


_FUZZ_SCHEMA = ModuleSchema("fuzz", [add, everything, scale])


@settings(max_examples=200, deadline=None)
@given(_requests)
def test_any_json_request_parses_or_fails_with_request_validation_error(data: object) -> None:
    try:
        _FUZZ_SCHEMA.parse_request(data)
    except RequestValidationError as exc:
        assert str(exc).startswith("error validating request: ")
