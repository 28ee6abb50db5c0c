"""Rich views (HTML/Markdown) of connections, modules, functions, errors and module tables."""

from __future__ import annotations

import uuid

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.client import connect
from dasf_jupyter.client.discovery import ModuleInfo
from dasf_jupyter.errors import RemoteError
from dasf_jupyter.jupyter.display import (
    ModuleTable,
    connection_html,
    remote_error_html,
    remote_error_markdown,
    remote_function_html,
    remote_function_markdown,
    remote_module_html,
    remote_module_markdown,
)


def scale(values: list[float], factor: float = 2.0) -> list[float]:
    """Multiply <values> by a factor.

    Parameters
    ----------
    values
        the numbers
    factor
        what to multiply with
    """
    return [v * factor for v in values]


class Counter:
    """Counts things."""

    def __init__(self, start: int = 0):
        self.start = start

    def up(self, by: int = 1) -> int:
        return self.start + by


@pytest.fixture
def remote(broker_url):
    topic = f"disp-{uuid.uuid4().hex[:8]}"
    with (
        BackendModule(topic, [scale, Counter]).serve_in_background(broker_url),
        connect(broker_url, timeout=30) as connection,
    ):
        yield connection, connection.module(topic)


def test_module_view_lists_members_with_signatures_and_escapes_html(remote):
    _, module = remote
    text = remote_module_html(module)
    assert module.topic in text and "<table" in text
    assert "scale(values: list[float], factor: float = 2.0)" in text.replace("&#x27;", "'")
    assert "Multiply &lt;values&gt; by a factor." in text  # docstring text is escaped
    assert "class" in text and "Counter" in text
    markdown = remote_module_markdown(module)
    assert "| function | `scale(" in markdown


def test_function_view_has_a_parameter_table(remote):
    _, module = remote
    text = remote_function_html(module.scale)
    assert "<code>values</code>" in text and "the numbers" in text and "= 2.0" in text
    assert "what to multiply with" in remote_function_markdown(module.scale)


def test_connection_view_never_shows_the_token(broker_url):
    connection = connect(broker_url, "s3cret-token")  # opens no socket until used
    text = connection_html(connection)
    assert connection.url in text and "with token" in text
    assert "s3cret" not in text and "s3cret" not in repr(connection)


def test_remote_error_view_folds_the_traceback():
    error = RemoteError(
        "division by <zero>",
        exc_type="ZeroDivisionError",
        topic="t",
        traceback="Traceback ...\nZeroDivisionError",
    )
    text = remote_error_html(error)
    assert "division by &lt;zero&gt;" in text and '<details class="dasf-error-details">' in text
    assert text.count("division by") == 1  # one line; the traceback alone is folded
    assert "ZeroDivisionError</pre>" in text
    markdown = remote_error_markdown(error)
    assert markdown == "**ZeroDivisionError**: division by <zero> (remote, topic `t`)"


def test_module_table_has_html_markdown_and_text():
    table = ModuleTable(
        [
            ModuleInfo("a", "first | module", True, raw={"functions": ["f"], "classes": ["C"]}),
            ModuleInfo("b", None, None, api_info={"functions": [{"name": "g"}], "classes": []}),
        ],
        served={"b": ["g", "h"], "c": ["k"]},
    )
    assert table.rows() == [
        ("a", "first | module", "yes", "f, C"),
        ("b", "", "yes (this kernel)", "g"),
        ("c", "", "yes (this kernel)", "k"),
    ]
    assert "<code>a</code>" in table._repr_html_()
    assert "first \\| module" in table._repr_markdown_()
    assert repr(table).splitlines()[0].split() == ["topic", "description", "online", "members"]
    assert repr(ModuleTable([])) == "(no modules on this broker)"


def test_module_table_says_when_a_topic_has_replicas_or_several_subscriptions():
    table = ModuleTable(
        [
            ModuleInfo("one", None, True, consumers=1, subscriptions=1),
            ModuleInfo("shared", None, True, consumers=3, subscriptions=1),
            ModuleInfo("split", None, True, consumers=2, subscriptions=2),
            ModuleInfo("reference-broker", None, None),
        ]
    )
    assert [row[2] for row in table.rows()] == [
        "yes",
        "yes · 3 replicas sharing the calls",
        "yes · 2 consumers in 2 subscriptions (each call runs 2×)",
        "?",
    ]


def test_extension_registers_the_views_with_ipython(remote):
    _, module = remote
    start_ipython()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "dasf_jupyter")
    formatters = shell.display_formatter.formatters  # a terminal shell shows only text
    try:
        assert module.topic in formatters["text/html"].lookup(module)(module)
        assert module.topic in formatters["text/markdown"].lookup(module)(module)
        assert "<code>values</code>" in formatters["text/html"].lookup(module.scale)(module.scale)
    finally:
        shell.run_line_magic("unload_ext", "dasf_jupyter")
    with pytest.raises(KeyError):
        formatters["text/html"].lookup(module)
