"""%dasf against a real broker, in an in-process IPython shell."""

from __future__ import annotations

import uuid

import pytest
from IPython.core.error import UsageError

from dasf_jupyter.errors import DasfError, RemoteError
from dasf_jupyter.jupyter.display import ModuleTable
from dasf_jupyter.jupyter.session import DasfSession

from .test_kernel import pid_alive, wait_gone
from .test_magics import magics_of, shell  # noqa: F401 - the shell fixture

CELL = '''\
def div(a: float, b: float) -> float:
    """Divide."""
    return a / b

class Box:
    def __init__(self, size: int):
        self.size = size

    def volume(self) -> int:
        return self.size ** 3
'''


@pytest.fixture
def connected(shell, broker_url):  # noqa: F811
    shell.run_line_magic("dasf", f"connect {broker_url} --timeout 30")
    yield shell
    shell.run_line_magic("dasf", "stop --all")


def test_status_shows_whether_a_token_is_set_but_never_the_token(shell, start_broker, capsys):  # noqa: F811
    broker = start_broker()
    assert broker.manage("dasf_user", "create", "alice").returncode == 0
    token = broker.manage("dasf_token", "create", "alice").stdout.strip()
    # an unknown token: the broker refuses it at connect, not at the first call
    with pytest.raises(DasfError, match="refused the connection.*check the token"):
        shell.run_line_magic("dasf", f"connect {broker.url} --token not-a-real-token")
    shell.run_line_magic("dasf", f"connect {broker.url} --token {token}")
    shell.run_line_magic("dasf", "status")
    out = capsys.readouterr().out
    assert "token set" in out and token not in out
    shell.run_line_magic("dasf", "disconnect")
    assert "disconnected" in capsys.readouterr().out


def test_call_form_and_errors_through_a_served_cell(connected, capsys):
    topic = f"mgb-{uuid.uuid4().hex[:8]}"
    connected.run_cell_magic("dasf", f"module {topic} -d 'Division'", CELL)
    assert f"serving '{topic}' from this kernel: div, Box" in capsys.readouterr().out
    table = connected.run_line_magic("dasf", "modules")
    assert isinstance(table, ModuleTable)
    row = next(r for r in table.rows() if r[0] == topic)
    assert "this kernel" in row[2] and "div" in row[3]
    connected.user_ns["b"] = 4
    assert connected.run_line_magic("dasf", f"call {topic}.div a=10 b=b") == 2.5
    with pytest.raises(RemoteError, match="division by zero"):
        connected.run_line_magic("dasf", f"call {topic}.div a=1 b=0")
    with pytest.raises(UsageError, match="is a class"):
        connected.run_line_magic("dasf", f"call {topic}.Box size=2")
    with pytest.raises(UsageError, match="no member 'nope'"):
        connected.run_line_magic("dasf", f"form {topic}.nope")

    from dasf_jupyter.jupyter.form_runner import module_form

    session = magics_of(connected).session
    form = module_form(session.connection, topic, "Box", {}, 30)
    form.fill({"size": 3, "function": {"func_name": "volume"}})
    assert form.run() and form.wait(30)
    assert form.error is None and form.result == 27


def test_stop_and_export_of_unknown_topics_explain(connected, capsys, tmp_path):
    connected.run_line_magic("dasf", "stop nothing-here")
    assert "does not serve 'nothing-here'" in capsys.readouterr().out
    with pytest.raises(DasfError, match="serves no cell module"):
        connected.run_line_magic("dasf", f"export nothing-here {tmp_path / 'x.py'}")


def test_session_shutdown_stops_the_embedded_broker(tmp_path, monkeypatch):
    monkeypatch.setenv("DASF_EMBEDDED_DIR", str(tmp_path))
    monkeypatch.delenv("DASF_BROKER_URL", raising=False)
    monkeypatch.delenv("JUPYTER_SERVER_URL", raising=False)
    session = DasfSession()
    try:
        location = session.connect(timeout=30)
        assert location.source == "embedded"
        assert session.connect(timeout=30).url == location.url  # reused, not a second one
        pid = session.embedded.pid
        assert pid is not None and pid_alive(pid)
    finally:
        session.shutdown()
    assert wait_gone(pid)
    assert not session.embedded.data_dir.exists()


def test_a_cell_module_shares_its_topic_with_replicas_unless_told_otherwise(connected, broker_url):
    from dasf_jupyter.backend import BackendModule

    def div(a: float, b: float) -> float:
        return a / b

    topic = f"mgb-{uuid.uuid4().hex[:8]}"
    connected.run_cell_magic("dasf", f"module {topic}", CELL)
    session = magics_of(connected).session
    assert session.served[topic].handle.subscription == "backend-module"
    with BackendModule(topic, [div]).serve_in_background(broker_url):
        row = next(r for r in connected.run_line_magic("dasf", "modules").rows() if r[0] == topic)
        assert row[2] == "yes (this kernel) · 2 replicas sharing the calls"
    connected.run_cell_magic("dasf", f"module {topic} --subscription blue", CELL)
    assert session.served[topic].handle.subscription == "blue"
