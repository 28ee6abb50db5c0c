"""Class forms (constructor + method selector), module forms and form_for lookups."""

from __future__ import annotations

import threading

import pytest

from dasf_jupyter.jupyter.forms import ClassForm, FunctionForm, ModuleForm, form_for

from .data import load_api_info

WAIT = 10


def greeter(**kw) -> ClassForm:
    return form_for(load_api_info(), "Greeter", namespace={}, **kw)


def test_class_form_value_has_constructor_and_method_call():
    form = greeter()
    assert isinstance(form, ClassForm)
    form.constructor.fields["name"].control.value = "Ada"
    assert form.value == {
        "class_name": "Greeter",
        "name": "Ada",
        "excited": False,
        "function": {"func_name": "greet", "times": 1},
    }


def test_switching_methods_shows_that_methods_fields_and_keeps_input():
    form = greeter()
    form.constructor.fields["name"].control.value = "Ada"
    form.method_fields.fields["times"].control.value = "3"
    form.method_selector.value = "shout"
    assert set(form.method_fields.fields) == {"word", "colour"}
    assert form.method_box.children[1] is form.method_fields
    assert form.value["function"] == {"func_name": "shout", "colour": "red"}
    assert form.validate() == {"function.word": "required"}
    form.method_fields.fields["word"].control.value = "hey"
    assert form.validate() == {}
    form.method_selector.value = "greet"
    assert form.value["function"] == {"func_name": "greet", "times": 3}


def test_class_form_runs_with_the_full_request():
    seen = []

    def runner(request, sink):
        seen.append(request)
        return ["hi Ada"] * request["function"]["times"]

    namespace: dict = {}
    form = form_for(load_api_info(), "Greeter.greet", namespace=namespace, runner=runner)
    form.constructor.fields["name"].control.value = "Ada"
    form.method_fields.fields["times"].control.value = "2"
    form.run_button.click()
    assert form.wait(WAIT)
    assert seen[0]["function"] == {"func_name": "greet", "times": 2}
    assert namespace["greeter_result"] == ["hi Ada", "hi Ada"]


def test_form_for_selects_a_method_and_rejects_unknown_members():
    form = form_for(load_api_info(), "Greeter.shout", namespace={})
    assert form.method_selector.value == "shout"
    with pytest.raises(ValueError, match="has no method 'nope'"):
        form_for(load_api_info(), "Greeter.nope", namespace={})
    with pytest.raises(ValueError, match="members: scalars, choices"):
        form_for(load_api_info(), "missing", namespace={})


def test_module_form_lists_all_members_and_shows_the_selected_form():
    calls = []
    done = threading.Event()

    def runner(request, sink):
        calls.append(request)
        done.set()
        return 1

    form = form_for(load_api_info(), namespace={}, runner=runner)
    assert isinstance(form, ModuleForm)
    assert list(form.member_selector.options) == [
        "scalars",
        "choices",
        "collections",
        "places",
        "when",
        "smooth",
        "slow",
        "Greeter",
    ]
    assert isinstance(form.current, FunctionForm) and form.current.name == "scalars"
    form.member_selector.value = "Greeter"
    assert isinstance(form.current, ClassForm)
    assert form.holder.children == (form.current,)
    form.member_selector.value = "slow"
    form.current.fields.fields["steps"].control.value = "2"
    assert form.value == {"func_name": "slow", "steps": 2}
    form.current.run()
    assert form.current.wait(WAIT) and done.is_set()
    assert calls == [{"func_name": "slow", "steps": 2}]


def test_reference_schema_without_codec_markers_still_builds_every_form():
    info = load_api_info(marked=False)
    module = ModuleForm(info, namespace={})
    for name in module.member_selector.options:
        assert module.form(name).validate() is not None


def test_class_without_methods_is_a_clear_error():
    with pytest.raises(ValueError, match="has no methods"):
        ClassForm({"name": "Empty", "rpc_schema": {}, "methods": []}, namespace={})


def test_fill_selects_and_fills_the_method():
    form = greeter()
    form.fill(
        {"class_name": "Greeter", "name": "Bo", "function": {"func_name": "shout", "word": "hey"}}
    )
    assert form.value == {
        "class_name": "Greeter",
        "name": "Bo",
        "excited": False,
        "function": {"func_name": "shout", "word": "hey", "colour": "red"},
    }
    with pytest.raises(ValueError, match="no method 'fly'"):
        form.fill({"function": {"func_name": "fly"}})
