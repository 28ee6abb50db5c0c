"""RemoteParameters.bind: the fast path maps arguments exactly as ``Signature.bind`` does."""

from __future__ import annotations

import itertools

import pytest

from dasf_jupyter.client.signature import RemoteParameters
from dasf_jupyter.errors import ArgumentError

SCHEMA = {
    "properties": {
        "func_name": {"const": "f"},
        "a": {"type": "integer"},
        "b": {"type": "integer", "default": 1},
        "c": {"type": "string"},  # required after an optional one: keyword-only
        "d": {"type": "number"},  # optional without a default: the backend fills it in
    },
    "required": ["func_name", "a", "c"],
}

ARGS = [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]
KWARGS = [{}, {"a": 5}, {"b": 6}, {"c": "x"}, {"d": 0.5}, {"c": "x", "b": 6}, {"zz": 1}]


def _reference(params: RemoteParameters, args: tuple, kwargs: dict) -> dict | str:
    """What the signature itself says: the bound arguments in order, or the error text."""
    try:
        return dict(params.signature.bind(*args, **kwargs).arguments)
    except TypeError as exc:
        return str(exc)


@pytest.mark.parametrize(("args", "kwargs"), list(itertools.product(ARGS, KWARGS)))
def test_bind_matches_the_signature_for_every_call_shape(args, kwargs):
    params = RemoteParameters.from_schema(SCHEMA)
    assert params._fast is not None  # the fast path is the one under test
    expected = _reference(params, args, kwargs)
    if isinstance(expected, str):
        with pytest.raises(ArgumentError) as info:
            params.bind("f()", args, kwargs)
        assert str(info.value) == f"f(): {expected}"
    else:
        got = params.bind("f()", args, kwargs)
        assert got == expected and list(got) == list(expected)


def test_names_that_are_not_identifiers_still_go_through_extra():
    schema = {"properties": {"a": {}, "class": {}}, "required": ["a"]}
    params = RemoteParameters.from_schema(schema)
    assert params._fast is None
    assert params.bind("f()", (1,), {"class": 2}) == {"a": 1, "class": 2}
    with pytest.raises(ArgumentError, match="unexpected keyword argument 'zz'"):
        params.bind("f()", (1,), {"zz": 2})
