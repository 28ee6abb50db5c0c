"""Our schemas have the reference's (demessaging 0.6.4) shapes; its requests parse with ours.

The probe module is built twice, with demessaging's own ``BackendModule`` machinery (no
connection is made) and with our ``ModuleSchema``, and the JSON schemas are compared.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
import xarray as xr

demessaging = pytest.importorskip("demessaging")
deprogressapi = pytest.importorskip("deprogressapi")

from demessaging import configure  # noqa: E402
from demessaging.backend.module import BackendModule  # noqa: E402
from demessaging.serializers.xarray import encode_xarray  # noqa: E402
from demessaging.validators.xarray import validate_dataarray  # noqa: E402
from deprogressapi import ProgressReport  # noqa: E402

from dasf_jupyter.backend.schema import ModuleSchema  # noqa: E402
from dasf_jupyter.codecs import decode_by_schema, encode_value  # noqa: E402

TOPIC = "probe-topic"


@configure(field_params={"a": {"ge": 0}})
def add(a: int, b: int = 1) -> int:
    """Add two numbers.

    Parameters
    ----------
    a : int
        first number
    b : int
        second number

    Returns
    -------
    int
        the sum
    """
    return a + b


class Greeter:
    """Greets people."""

    def __init__(self, name: str):
        """
        Parameters
        ----------
        name : str
            who to greet
        """
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        """Greet.

        Parameters
        ----------
        times : int
            repetitions
        """
        return [f"hi {self.name}"] * times


@configure(
    serializers={"da": encode_xarray},
    validators={"da": [validate_dataarray]},
    return_serializer=encode_xarray,
    return_validators=[validate_dataarray],
)
def double(da: xr.DataArray, factor: float = 2.0) -> xr.DataArray:
    """Multiply a DataArray.

    Parameters
    ----------
    da : xr.DataArray
        the input
    factor : float
        the multiplier

    Returns
    -------
    xr.DataArray
        the product
    """
    return da * factor


def slow(n: int, reporter: ProgressReport = ProgressReport(step_message="Working")) -> int:
    """Count slowly.

    Parameters
    ----------
    n : int
        how far
    """
    return n


MEMBERS = [add, Greeter, double, slow]


@pytest.fixture(scope="module")
def reference() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BackendModule.create_model(members=list(MEMBERS), messaging_config={"topic": TOPIC})


@pytest.fixture(scope="module")
def ours() -> ModuleSchema:
    return ModuleSchema(TOPIC, MEMBERS)


@pytest.fixture(scope="module")
def ref_api(reference: Any) -> dict:
    return json.loads(reference.get_api_info().model_dump_json())


def _compare_object_schemas(ref: dict, got: dict) -> None:
    assert got["title"] == ref["title"]
    assert got["type"] == ref["type"] == "object"
    assert list(got["properties"]) == list(ref["properties"])
    assert got["required"] == ref["required"]
    assert bool(got.get("description")) == bool(ref.get("description"))
    for key, prop in ref["properties"].items():
        mine = got["properties"][key]
        # the reporter's default differs on purpose: we do not expose a report object
        keys = ("const", "minimum", "description", "is_reporter")
        keys += ("default",) if key != "reporter" else ()
        for same in keys:
            if same in prop:  # the reference drops is_reporter next to a $ref in api_info
                assert mine.get(same) == prop[same], (ref["title"], key, same)


def test_api_info_has_the_reference_top_level_shape(ref_api: dict, ours: ModuleSchema) -> None:
    api = ours.api_info()
    assert list(api) == list(ref_api) == ["classes", "functions", "rpc_schema"]
    assert [c["name"] for c in api["classes"]] == [c["name"] for c in ref_api["classes"]]
    assert [f["name"] for f in api["functions"]] == [f["name"] for f in ref_api["functions"]]


def test_function_schemas_match(ref_api: dict, ours: ModuleSchema) -> None:
    for ref_fn, fn in zip(ref_api["functions"], ours.api_info()["functions"], strict=True):
        assert list(fn) == list(ref_fn) == ["name", "rpc_schema", "return_schema"]
        _compare_object_schemas(ref_fn["rpc_schema"], fn["rpc_schema"])
        assert fn["return_schema"]["title"] == ref_fn["return_schema"]["title"]
        assert fn["return_schema"].get("description") == ref_fn["return_schema"].get("description")
        assert fn["return_schema"]["default"] is None


def test_class_schemas_match(ref_api: dict, ours: ModuleSchema) -> None:
    for ref_cls, cls in zip(ref_api["classes"], ours.api_info()["classes"], strict=True):
        assert list(cls) == list(ref_cls) == ["name", "rpc_schema", "methods"]
        _compare_object_schemas(ref_cls["rpc_schema"], cls["rpc_schema"])
        for ref_m, m in zip(ref_cls["methods"], cls["methods"], strict=True):
            assert m["name"] == ref_m["name"]
            _compare_object_schemas(ref_m["rpc_schema"], m["rpc_schema"])
            assert m["return_schema"] == ref_m["return_schema"]


def test_info_schema_matches_module_union(reference: Any, ours: ModuleSchema) -> None:
    ref = json.loads(json.dumps(reference.model_json_schema()))
    got = ours.info_schema()
    assert got["title"] == ref["title"] == TOPIC
    assert got["description"] == ref["description"]
    assert got["anyOf"] == ref["anyOf"]
    members = {r["$ref"].rsplit("/", 1)[-1] for r in ref["anyOf"]} | {"MethClassGreeterGreet"}
    assert members <= set(got["$defs"])
    for name in members:
        _compare_object_schemas(ref["$defs"][name], got["$defs"][name])
    assert (
        got["$defs"]["ClassGreeter"]["properties"]["function"]
        == (ref["$defs"]["ClassGreeter"]["properties"]["function"])
    )


def test_reporter_parameter_is_flagged(ours: ModuleSchema) -> None:
    fn = next(f for f in ours.api_info()["functions"] if f["name"] == "slow")
    assert fn["rpc_schema"]["properties"]["reporter"]["is_reporter"] is True
    assert ours.info_schema()["$defs"]["FuncSlow"]["properties"]["reporter"]["is_reporter"]


def test_xarray_fields_are_marked_for_clients(ours: ModuleSchema) -> None:
    fn = next(f for f in ours.api_info()["functions"] if f["name"] == "double")
    assert fn["rpc_schema"]["properties"]["da"]["x-dasf-codec"] == (
        "xarray.DataArray/netcdf3-base64"
    )
    assert fn["return_schema"]["x-dasf-codec"] == "xarray.DataArray/netcdf3-base64"


def test_reference_client_requests_parse_with_ours(reference: Any, ours: ModuleSchema) -> None:
    # demessaging's client sends the JSON of its validated request model
    def as_sent(data: dict) -> dict:
        return json.loads(reference.model_validate(data).model_dump_json())

    call = ours.parse_request(as_sent({"func_name": "add", "a": 2, "b": 3}))
    assert call.encode_result(call.execute()) == 5

    sent = as_sent(
        {"class_name": "Greeter", "name": "Ada", "function": {"func_name": "greet", "times": 2}}
    )
    call = ours.parse_request(sent)
    assert call.encode_result(call.execute()) == ["hi Ada", "hi Ada"]

    sent = as_sent({"func_name": "slow", "n": 4})
    assert isinstance(sent["reporter"], dict)  # the reference sends its report object
    call = ours.parse_request(sent)
    assert call.reporter_param == "reporter"
    assert call.execute(reporter=ProgressReport(step_message="x")) == 4


def test_reference_xarray_request_decodes_and_our_result_reads_there(
    reference: Any, ours: ModuleSchema
) -> None:
    da = xr.DataArray(
        np.arange(4.0), dims="x", coords={"x": [1, 2, 3, 4]}, attrs={"units": "m"}, name="v"
    )
    sent = json.loads(
        reference.model_validate({"func_name": "double", "da": da}).model_dump_json()
    )
    assert isinstance(sent["da"], str)
    call = ours.parse_request(sent)
    result = call.encode_result(call.execute())
    # the reference's return model reads our answer
    ref_return = reference.backend_config.models[2].return_model
    xr.testing.assert_identical(ref_return.model_validate(result).root, da * 2.0)


def test_xarray_codec_and_reference_serializer_agree() -> None:
    da = xr.DataArray(np.ones((2, 3)), dims=("a", "b"), attrs={"k": "v"})
    ds = xr.Dataset({"v": da})
    assert encode_value(da) == encode_xarray(da)
    xr.testing.assert_identical(validate_dataarray(None, encode_value(da)), da)
    schema = {"x-dasf-codec": "xarray.DataArray/netcdf3-base64"}
    xr.testing.assert_identical(decode_by_schema(encode_xarray(da), schema), da)
    ds_schema = {"x-dasf-codec": "xarray.Dataset/netcdf3-base64"}
    xr.testing.assert_identical(decode_by_schema(encode_xarray(ds), ds_schema), ds)
