"""Remote stubs have real signatures, docstrings and help(), built from the api_info alone."""

from __future__ import annotations

import datetime as dt
import inspect
import pydoc
from typing import Literal, Optional

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.client import Connection, RemoteModule
from tests.client.conftest import SAMPLE_MODULE


@pytest.fixture(scope="module")
def remote() -> RemoteModule:
    api_info = BackendModule.from_path(SAMPLE_MODULE, "sample").api_info()
    # no socket opens until a call is made, so a connection to nowhere is fine here
    return RemoteModule(Connection("ws://127.0.0.1:9/ws"), "sample", api_info)


def test_parameters_follow_the_schema_in_order_with_defaults_and_annotations(remote):
    sig = inspect.signature(remote.add)
    assert [(p.name, p.kind) for p in sig.parameters.values()] == [
        ("a", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("b", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]
    assert sig.parameters["a"].default is inspect.Parameter.empty
    assert sig.parameters["b"].default == 1
    assert sig.parameters["a"].annotation is int
    assert sig.return_annotation is int


def test_annotations_map_json_types_back_to_python(remote):
    def annotation(fn):
        return inspect.signature(getattr(remote, fn)).parameters["value"].annotation

    assert annotation("same_list") == list[int]
    assert annotation("same_dict") == dict[str, float]
    assert annotation("same_optional") == Optional[int]  # noqa: UP045
    assert annotation("same_literal") == Literal["a", "b"]
    assert annotation("same_color") == Literal["red", "green"]
    assert annotation("same_datetime") is dt.datetime
    assert annotation("same_point") == "Point"
    assert annotation("same_dataarray") == "xarray.DataArray"
    assert annotation("same_frame") == "pandas.DataFrame"


def test_reporter_parameters_are_hidden(remote):
    assert list(inspect.signature(remote.count_slowly).parameters) == ["steps", "delay"]


def test_docstrings_are_numpy_style_from_the_descriptions(remote):
    doc = remote.add.__doc__
    assert doc.startswith("Add two integers.")
    assert "Parameters\n----------\na : int\n    first number" in doc
    assert "b : int, optional\n    second number (default: 1)" in doc
    assert "Returns\n-------\nint\n    the sum" in doc


def test_help_shows_signature_and_docstring(remote):
    text = pydoc.render_doc(remote.add, renderer=pydoc.plaintext)
    assert "add(a: int, b: int = 1) -> int" in text
    assert "first number" in text
    class_text = pydoc.render_doc(remote.Counter, renderer=pydoc.plaintext)
    assert "Counter(start: int = 0)" in class_text
    assert "plus(n: int)" in class_text


def test_the_module_lists_its_members(remote):
    members = set(dir(remote))
    assert {"add", "same_dataarray", "Counter", "count_slowly"} <= members
    assert "add(a: int, b: int = 1) -> int" in remote.__doc__
    with pytest.raises(AttributeError, match="no member 'nope'.*available: "):
        remote.nope  # noqa: B018


def test_members_are_the_served_functions_and_classes_only(remote):
    members = remote.members()
    names = [f["name"] for f in remote.api_info["functions"]]
    names += [c["name"] for c in remote.api_info["classes"]]
    assert list(members) == names
    assert {"api_info", "description", "topic"}.isdisjoint(members)
    assert members["add"] is remote.add and members["Counter"] is remote.Counter
    members.clear()  # a copy: the module keeps its members
    assert remote.members()


def test_requests_are_built_and_checked_locally(remote):
    assert remote.add.request(2) == {"func_name": "add", "a": 2}
    assert remote.Counter(3).plus.request(4) == {
        "class_name": "Counter",
        "start": 3,
        "function": {"func_name": "plus", "n": 4},
    }
    with pytest.raises(TypeError, match=r"add\(\): missing a required argument: 'a'"):
        remote.add.request()
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        remote.add.request(1, z=2)
    with pytest.raises(TypeError, match="too many positional arguments"):
        remote.add.request(1, 2, 3)
    with pytest.raises(TypeError, match="Counter"):
        remote.Counter(1, 2)


def test_numpy_arguments_are_encoded_by_their_schema(remote):
    import numpy as np

    request = remote.same_array.request(np.arange(3))
    assert request["value"]["shape"] == [3]
