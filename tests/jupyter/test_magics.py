"""%dasf argument parsing, usage errors and configuration, in an in-process IPython shell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from dasf_jupyter.jupyter.magic_args import parse_call, resolve_value, split_words
from dasf_jupyter.jupyter.session import NotConnected


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("DASF_EMBEDDED_DIR", str(tmp_path / "embedded"))
    monkeypatch.delenv("DASF_BROKER_URL", raising=False)
    start_ipython()  # the test shell is a process-wide singleton
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "dasf_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "dasf_jupyter")


def magics_of(ip):
    return next(c for c in ip.configurables if type(c).__name__ == "DasfMagics")


def test_unknown_subcommand_is_a_usage_error_listing_the_subcommands(shell):
    with pytest.raises(UsageError, match="unknown subcommand 'bogus'") as info:
        shell.run_line_magic("dasf", "bogus")
    assert "%dasf use TOPIC [as NAME]" in str(info.value)


def test_missing_arguments_show_the_subcommand_usage(shell):
    with pytest.raises(UsageError, match="usage: %dasf export"):
        shell.run_line_magic("dasf", "export only-topic")


def test_usage_errors_print_without_traceback(shell, capsys):
    result = shell.run_cell("%dasf use")
    captured = capsys.readouterr()
    assert not result.success
    assert "UsageError" in captured.err + captured.out
    assert "Traceback" not in captured.err + captured.out


def test_help_prints_the_usage(shell, capsys):
    assert shell.run_line_magic("dasf", "help") is None
    assert "%%dasf module TOPIC" in capsys.readouterr().out
    shell.run_line_magic("dasf", "connect --help")
    assert "--token" in capsys.readouterr().out


def test_module_is_only_a_cell_magic_and_cells_only_serve_modules(shell):
    with pytest.raises(UsageError, match="cell magic"):
        shell.run_line_magic("dasf", "module topic")
    with pytest.raises(UsageError, match="only 'module'"):
        shell.run_cell_magic("dasf", "status", "x = 1")
    with pytest.raises(UsageError, match="needs the module's code"):
        shell.run_cell_magic("dasf", "module some-topic", "   \n")


def test_config_traits_are_set_with_percent_config(shell):
    shell.run_line_magic("config", "DasfMagics.timeout = 60")
    shell.run_line_magic("config", "DasfMagics.broker_url = 'ws://127.0.0.1:1/ws'")
    magics = magics_of(shell)
    assert magics.timeout == 60.0
    assert magics.broker_url == "ws://127.0.0.1:1/ws"


def test_commands_that_need_a_connection_say_to_connect_first(shell):
    with pytest.raises(NotConnected, match="%dasf connect"):
        shell.run_line_magic("dasf", "use some-topic")
    with pytest.raises(NotConnected):
        shell.run_line_magic("dasf", "call some-topic.fn a=1")


def test_dasf_errors_are_shown_as_one_line(shell, capsys):
    result = shell.run_cell("%dasf modules")
    captured = capsys.readouterr()
    assert not result.success
    assert "NotConnected: not connected" in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


def test_use_as_needs_a_valid_variable_name(shell):
    with pytest.raises(UsageError, match="as NAME"):
        shell.run_line_magic("dasf", "use topic as 1abc")


def test_call_values_are_literals_or_notebook_variables():
    namespace = {"ds": [1, 2], "obj": type("O", (), {"attr": 5})()}
    topic, member, kwargs = parse_call(
        "climate.mean a=1 b='x y' c={'k': [1, 2]} d=ds e=obj.attr f=None g=2.5,", namespace
    )
    assert (topic, member) == ("climate", "mean")
    assert kwargs == {
        "a": 1,
        "b": "x y",
        "c": {"k": [1, 2]},
        "d": [1, 2],
        "e": 5,
        "f": None,
        "g": 2.5,
    }
    assert kwargs["d"] is namespace["ds"]


@pytest.mark.parametrize(
    "value", ["__import__('os').system('true')", "ds.append(3)", "1 if x else 2", "[x for x in y]"]
)
def test_call_never_evaluates_expressions(value):
    with pytest.raises(UsageError, match="neither a Python literal"):
        resolve_value(value, {"ds": [], "x": 1, "y": []})


def test_call_reports_unknown_variables_and_malformed_pairs():
    with pytest.raises(UsageError, match="'nope' is neither"):
        parse_call("t.f a=nope", {})
    with pytest.raises(UsageError, match="expected name=value"):
        parse_call("t.f 5", {})
    with pytest.raises(UsageError, match="given twice"):
        parse_call("t.f a=1 a=2", {})
    with pytest.raises(UsageError, match="TOPIC.FUNCTION"):
        parse_call("justtopic a=1", {})
    with pytest.raises(UsageError, match="unbalanced"):
        parse_call("t.f a=[1, 2", {})


def test_words_split_outside_quotes_and_brackets():
    assert split_words("a={'x': 1, 'y': 2} b='p q' c=\"r \\\" s\" d=(1, 2)") == [
        "a={'x': 1, 'y': 2}",
        "b='p q'",
        'c="r \\" s"',
        "d=(1, 2)",
    ]


def test_unload_removes_the_magic_and_loading_twice_is_harmless(shell):
    shell.run_line_magic("load_ext", "dasf_jupyter")  # already loaded: no second instance
    assert sum(type(c).__name__ == "DasfMagics" for c in shell.configurables) == 1
    shell.run_line_magic("unload_ext", "dasf_jupyter")
    assert "dasf" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "dasf_jupyter")
    assert "dasf" in shell.magics_manager.magics["line"]
