"""numpy and Google docstrings feed descriptions into the schema."""

from __future__ import annotations

from dasf_jupyter.backend.docstrings import parse_doc
from dasf_jupyter.backend.schema import ModuleSchema


def numpy_style(a: int, b: str = "x") -> float:
    """Compute a thing.

    A longer explanation.

    Parameters
    ----------
    a : int
        the first value
    b : str
        the label

    Returns
    -------
    float
        the result
    """
    return 1.0


def google_style(a: int, b: str = "x") -> float:
    """Compute a thing.

    Args:
        a: the first value
        b: the label

    Returns:
        the result
    """
    return 1.0


def test_numpy_and_google_docstrings_give_the_same_info() -> None:
    for func in (numpy_style, google_style):
        doc = parse_doc(func)
        assert doc.description.startswith("Compute a thing.")
        assert doc.params == {"a": "the first value", "b": "the label"}
        assert doc.returns == "the result"
    assert "A longer explanation." in parse_doc(numpy_style).description


def test_descriptions_land_in_the_schema() -> None:
    info = ModuleSchema("t", [numpy_style, google_style]).api_info()
    for fn in info["functions"]:
        props = fn["rpc_schema"]["properties"]
        assert props["a"]["description"] == "the first value"
        assert props["b"]["description"] == "the label"
        assert props["b"]["default"] == "x"
        assert fn["rpc_schema"]["description"].startswith("Compute a thing.")
        assert fn["return_schema"]["description"] == "the result"


def test_missing_docstring_is_fine() -> None:
    def bare(a, b=2):
        return a

    info = ModuleSchema("t", [bare]).api_info()
    props = info["functions"][0]["rpc_schema"]["properties"]
    assert "description" not in props["a"]
    assert props["b"]["default"] == 2
    assert parse_doc(bare).params == {}
