"""Schema → field widget mapping, defaults, value extraction and validation messages."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import numpy as np
import pytest
import xarray as xr

from dasf_jupyter.jupyter.forms import EMPTY, FunctionForm, form_for, schema_kind
from dasf_jupyter.jupyter.forms.fields.choice_of_shapes import OptionalField, UnionField
from dasf_jupyter.jupyter.forms.fields.collections import DictField, ListField, ObjectField
from dasf_jupyter.jupyter.forms.fields.data import AnyField, DataField
from dasf_jupyter.jupyter.forms.fields.dates import DateField, DateTimeField
from dasf_jupyter.jupyter.forms.fields.scalars import (
    BoolField,
    ChoiceField,
    FloatField,
    IntField,
    TextField,
)

from .data import load_api_info


def make(name: str, namespace: dict | None = None, marked: bool = True) -> FunctionForm:
    info = load_api_info(marked)
    return form_for(info, name, namespace={} if namespace is None else namespace)


def test_every_type_maps_to_its_field_class():
    expected = {
        ("scalars", "count"): IntField,
        ("scalars", "ratio"): FloatField,
        ("scalars", "code"): TextField,
        ("scalars", "flag"): BoolField,
        ("choices", "colour"): ChoiceField,
        ("choices", "mode"): ChoiceField,
        ("choices", "note"): OptionalField,
        ("collections", "values"): ListField,
        ("collections", "weights"): DictField,
        ("places", "region"): ObjectField,
        ("places", "where"): OptionalField,
        ("when", "day"): DateField,
        ("when", "moment"): DateTimeField,
        ("smooth", "da"): DataField,
    }
    for (func, arg), cls in expected.items():
        assert type(make(func).fields.fields[arg]) is cls, (func, arg)


def test_numbers_are_text_boxes_that_show_their_bounds():
    fields = make("scalars").fields.fields
    assert type(fields["count"].control) is w.Text
    assert fields["count"].control.placeholder == "a whole number, 1 … 10"
    assert type(fields["scale"].control) is w.Text
    assert fields["scale"].control.placeholder == "a number"
    fields["count"].control.value = "12"
    assert fields["count"].own_message() == "must be ≤ 10"
    fields["count"].control.value = "2.5"
    assert fields["count"].own_message() == "'2.5' is not a whole number"


def test_widget_controls_for_choices_dates_and_data():
    fields = make("choices").fields.fields
    assert isinstance(fields["colour"].control, w.Dropdown)
    assert list(fields["colour"].control.options) == [
        ("red", "red"),
        ("green", "green"),
        ("blue", "blue"),
    ]
    assert isinstance(fields["note"].inner.control, w.Text)
    dates = make("when").fields.fields
    assert isinstance(dates["day"].control, w.DatePicker)
    assert isinstance(dates["moment"].control, w.NaiveDatetimePicker)
    data = make("smooth").fields.fields["da"]
    assert isinstance(data.picker, w.Dropdown)
    assert data.upload.accept == ".nc,.csv"


def test_discriminator_and_reporter_fields_are_hidden():
    assert set(make("slow").fields.fields) == {"steps"}
    assert "func_name" not in make("scalars").fields.fields


def test_defaults_are_prefilled_and_required_numbers_start_empty():
    scalars = make("scalars")
    assert scalars.fields.fields["count"].control.value == ""  # required, no default: no 0
    assert scalars.value == {
        "ratio": 0.5,
        "code": "ABC",
        "flag": False,
        "plain": 3,
        "scale": 1.5,
    }
    collections = make("collections")
    assert collections.value == {"values": [], "names": ["a", "b"], "weights": {"x": 1.0}}
    assert make("when").value == {"moment": dt.datetime(2024, 5, 1, 12, 0)}


def test_required_fields_are_marked_with_a_star():
    fields = make("scalars").fields.fields
    count, ratio = fields["count"].label_column().value, fields["ratio"].label_column().value
    assert "<b>count</b>" in count and 'title="required">*' in count
    assert "<b>ratio</b>" in ratio and "required" not in ratio
    region = make("places").fields.fields["region"]
    assert "*" in region.children[0].children[0].value  # the nested group's header


def test_descriptions_become_tooltips_and_help_text():
    count = make("scalars").fields.fields["count"]
    assert count.control.tooltip == "how many items"
    assert "how many items" in count.children[0].children[2].value


def test_values_are_python_types():
    form = make("when")
    form.fields.fields["day"].control.value = dt.date(2024, 2, 29)
    assert form.value["day"] == dt.date(2024, 2, 29)
    assert isinstance(form.value["moment"], dt.datetime)
    choices = make("choices")
    choices.fields.fields["colour"].control.value = "green"
    assert choices.value == {"colour": "green", "mode": "fast"}


def test_optional_left_empty_is_omitted_and_filled_is_sent():
    form = make("choices")
    note = form.fields.fields["note"]
    assert note.none.value is True
    assert "note" not in form.value and "limit" not in form.value
    note.none.value = False
    assert "note" not in form.value  # nothing typed yet: still "no value"
    note.inner.control.value = "hello"
    assert form.value["note"] == "hello"
    note.none.value = True
    assert "note" not in form.value


def test_optional_without_default_none_sends_explicit_null():
    schema = {
        "properties": {
            "x": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 5},
            "y": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "required": ["y"],
    }
    form = FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})
    assert form.value == {"x": 5, "y": None}
    form.fields.fields["x"].none.value = True
    assert form.value == {"x": None, "y": None}


def test_nested_models_give_nested_dicts():
    form = make("places")
    region = form.fields.fields["region"]
    region.group.fields["label"].control.value = "north"
    centre = region.group.fields["centre"]
    centre.group.fields["lat"].control.value = "52.5"
    centre.group.fields["lon"].control.value = "13.4"
    where = form.fields.fields["where"]
    where.none.value = False
    where.inner.group.fields["lat"].control.value = "1.0"
    where.inner.group.fields["lon"].control.value = "0"
    assert form.value == {
        "region": {
            "label": "north",
            "centre": {"lat": 52.5, "lon": 13.4, "name": ""},
            "tags": [],
        },
        "where": {"lat": 1.0, "lon": 0.0, "name": ""},
    }
    assert form.validate() == {}


def test_list_rows_can_be_added_and_removed():
    form = make("collections")
    values = form.fields.fields["values"]
    first = values.add_item()
    first.control.value = "4"
    values.add_item(7)
    assert form.value["values"] == [4, 7]
    remove_first = values.rows.children[0].children[1]
    remove_first.click()
    assert form.value["values"] == [7]


def test_numeric_list_accepts_pasted_text():
    values = make("collections").fields.fields["values"]
    values.paste.value = "1, 2,3\n4 5"
    assert values.value == [1, 2, 3, 4, 5]
    assert values.paste.value == ""
    values.paste.value = "1, two"
    assert "cannot read int" in values.error.value
    assert values.value == [1, 2, 3, 4, 5]


def test_dict_rows_give_a_mapping_and_duplicate_keys_are_reported():
    form = make("collections")
    weights = form.fields.fields["weights"]
    weights.add_entry("y", 2.5)
    assert form.value["weights"] == {"x": 1.0, "y": 2.5}
    weights.add_entry("x", 3.0)
    assert "weights" not in form.value
    assert form.validate() == {"weights": "the key 'x' appears twice"}
    assert "appears twice" in weights.error.value


def test_validation_messages_per_field():
    form = make("scalars")
    fields = form.fields.fields
    fields["code"].control.value = "abcd"
    fields["ratio"].control.value = "0.0"  # exclusiveMinimum
    problems = form.validate()
    assert problems == {
        "count": "required",
        "ratio": "must be > 0.0",
        "code": "must match the pattern ^[A-Z]{3}$",
    }
    assert "must match the pattern" in fields["code"].error.value
    assert "color:var(--jp-error-color1)" in fields["code"].error.value
    fields["count"].control.value = "3"
    fields["code"].control.value = "XYZ"
    fields["ratio"].control.value = "0.25"
    assert form.validate() == {}
    assert fields["code"].error.value == ""


def test_required_fields_report_missing_values():
    problems = make("places").validate()
    assert problems == {
        "region.label": "required",
        "region.centre.lat": "required",
        "region.centre.lon": "required",
    }
    assert make("choices").validate() == {"colour": "required"}
    assert make("when").validate() == {"day": "required"}
    greeter = form_for(load_api_info(), "Greeter", namespace={})
    assert greeter.validate() == {"name": "required"}


def test_enum_rejects_unknown_values_and_bounds_are_checked():
    form = make("scalars")
    count = form.fields.fields["count"]
    assert count.check(11) == "must be ≤ 10"
    assert count.check(0) == "must be ≥ 1"
    colour = make("choices").fields.fields["colour"]
    assert colour.check("purple") == "must be one of ['red', 'green', 'blue']"
    with pytest.raises(ValueError):
        colour.set_value("purple")


def test_nested_validation_paths_include_list_indices():
    form = make("places")
    region = form.fields.fields["region"]
    region.group.fields["label"].control.value = "r"
    region.group.fields["centre"].set_value({"lat": 1, "lon": 2})
    tags = region.group.fields["tags"]
    tags.add_item("ok")
    tags.add_item()  # required item left empty
    assert form.validate() == {"region.tags[1]": "required"}


def test_data_field_lists_matching_namespace_variables():
    da = xr.DataArray(np.arange(3.0), dims="x")
    namespace = {"temps": da, "other": 5, "_hidden": da, "table": {"a": 1}}
    form = make("smooth", namespace)
    field = form.fields.fields["da"]
    assert list(field.picker.options) == ["temps"]
    namespace["more"] = da.copy()
    field.refresh()
    assert list(field.picker.options) == ["more", "temps"]
    field.picker.value = "temps"
    assert form.value["da"] is da
    assert form.validate() == {}


def test_untyped_reference_field_takes_json_or_a_variable():
    namespace = {"grid": xr.DataArray(np.zeros(2), dims="x")}
    form = make("smooth", namespace, marked=False)
    field = form.fields.fields["da"]
    assert isinstance(field, AnyField)
    assert "grid" in field.picker.options
    field.text.value = "[1, 2"
    assert form.validate() == {"da": field.own_message()}
    assert field.own_message().startswith("not valid JSON")
    field.text.value = "[1, 2]"
    assert form.value["da"] == [1, 2]
    field.picker.value = "grid"
    assert form.value["da"] is namespace["grid"]


def test_union_field_switches_between_types():
    schema = {
        "properties": {"x": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": "a"}},
    }
    form = FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})
    field = form.fields.fields["x"]
    assert isinstance(field, UnionField)
    assert form.value == {"x": "a"}
    field.selector.value = 0
    field.branches[0].control.value = "3"
    assert form.value == {"x": 3}


def test_schema_kind_table():
    assert schema_kind({"type": "string", "format": "date"}) == "date"
    assert schema_kind({"type": "string", "format": "time"}) == "time"
    assert schema_kind({"const": "a"}) == "choice"
    assert schema_kind({"type": "object", "additionalProperties": {"type": "number"}}) == "dict"
    assert schema_kind({}) == "any"
    assert schema_kind({"type": "integer", "x-dasf-codec": "numpy.ndarray/json"}) == "data"


def test_nullable_type_list_and_allof_ref_are_understood():
    schema = {
        "$defs": {"P": {"properties": {"a": {"type": "integer"}}, "required": ["a"]}},
        "properties": {
            "n": {"type": ["integer", "null"], "default": None, "title": "N"},
            "p": {"allOf": [{"$ref": "#/$defs/P"}], "description": "wrapped"},
        },
        "required": ["p"],
    }
    form = FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})
    assert isinstance(form.fields.fields["n"], OptionalField)
    assert isinstance(form.fields.fields["p"], ObjectField)
    assert form.value == {"p": {}}  # the required integer starts empty, not 0
    assert form.validate() == {"p.a": "required"}


def test_bad_ref_is_a_clear_error():
    from dasf_jupyter.jupyter.forms import SchemaError

    schema = {"properties": {"x": {"$ref": "#/$defs/Missing"}}}
    with pytest.raises(SchemaError, match="unresolvable"):
        FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})


def test_empty_marker_is_falsy_and_unique():
    assert not EMPTY
    assert repr(EMPTY) == "EMPTY"


def test_fill_puts_values_into_the_fields():
    form = make("places")
    form.fill({"region": {"label": "r", "centre": {"lat": 1.5, "lon": 2.5}, "tags": ["t"]}})
    assert form.value["region"] == {
        "label": "r",
        "centre": {"lat": 1.5, "lon": 2.5, "name": ""},
        "tags": ["t"],
    }
    when = make("when")
    when.fill({"day": "2024-03-01", "moment": "2024-03-01T10:00:00Z"})
    assert when.value == {"day": dt.date(2024, 3, 1), "moment": dt.datetime(2024, 3, 1, 10)}
    with pytest.raises(ValueError, match="no field named nope"):
        when.fill({"nope": 1})


def test_message_updates_live_once_shown():
    form = make("scalars")
    code = form.fields.fields["code"]
    code.control.value = "abc"
    assert code.error.value == ""  # no nagging before the first validation
    form.validate()
    assert "pattern" in code.error.value
    code.control.value = "ABD"
    assert code.error.value == ""


def test_every_form_serialises_to_widget_state(tmp_path):
    from ipywidgets.embed import embed_minimal_html

    module = form_for(load_api_info(), namespace={})
    for name in module.member_selector.options:
        module.member_selector.value = name
        page = tmp_path / f"{name}.html"
        embed_minimal_html(page, views=[module], title=name)
        assert "application/vnd.jupyter.widget-state+json" in page.read_text()


def test_recursive_required_models_are_a_clear_error():
    from dasf_jupyter.jupyter.forms import SchemaError

    schema = {
        "$defs": {
            "Node": {"properties": {"next": {"$ref": "#/$defs/Node"}}, "required": ["next"]}
        },
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "required": ["root"],
    }
    with pytest.raises(SchemaError, match="recursive model"):
        FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})


def test_optional_recursive_lists_build_lazily():
    schema = {
        "$defs": {
            "Tree": {
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
                },
                "required": ["label"],
            }
        },
        "properties": {"tree": {"$ref": "#/$defs/Tree"}},
    }
    form = FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})
    tree = form.fields.fields["tree"]
    child = tree.group.fields["children"].add_item()
    child.group.fields["label"].control.value = "leaf"
    tree.group.fields["label"].control.value = "top"
    assert form.value == {
        "tree": {"label": "top", "children": [{"label": "leaf", "children": []}]}
    }


def test_default_that_breaks_its_schema_is_reported_not_raised():
    schema = {"properties": {"c": {"enum": ["a", "b"], "default": "z"}}}
    form = FunctionForm({"name": "f", "rpc_schema": schema}, namespace={})
    assert "was not usable" in form.fields.fields["c"].error.value
    assert form.value == {}
