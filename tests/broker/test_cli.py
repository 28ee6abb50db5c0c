"""The dasf-broker command and BrokerProcess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.conftest import free_port
from tests.waiting import NeverHappened, eventually


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dasf_jupyter.broker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_explains_serving_managing_and_settings():
    result = run_cli("--help")
    assert result.returncode == 0
    for text in (
        "--port",
        "--data-dir",
        "--secure",
        "--max-message-size",
        "manage",
        "DATABASE_URL",
        "REDIS_URL",
        "/ws/<topic>/<subscription>",
    ):
        assert text in result.stdout


def test_too_small_message_size_is_refused_with_a_reason():
    result = run_cli("--max-message-size", "10")
    assert result.returncode == 2
    assert "at least 1024 bytes" in result.stderr


def test_broker_applies_migrations_and_serves_http_and_websockets(tmp_path):
    with BrokerProcess(data_dir=tmp_path) as broker:
        assert (tmp_path / "broker.sqlite3").exists()
        with urllib.request.urlopen(f"{broker.http_url}/api/topics/", timeout=10) as response:
            assert response.status == 200
        with connect(f"{broker.url}/cli-topic") as producer:
            producer.send('{"payload": "", "properties": {}, "context": 1}')
            assert '"result":"ok"' in producer.recv(timeout=10)


def test_manage_runs_django_commands_on_the_same_data_dir(tmp_path):
    broker = BrokerProcess(data_dir=tmp_path)
    result = broker.manage("showmigrations", "dasfbroker")
    assert result.returncode == 0, result.stderr
    assert "[X] 0001_initial" in result.stdout


def test_manage_accepts_the_data_dir_option(tmp_path):
    result = run_cli("manage", "--data-dir", str(tmp_path), "showmigrations", "dasfbroker")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "broker.sqlite3").exists()


def test_admin_pages_come_with_their_static_files(tmp_path):
    with BrokerProcess(data_dir=tmp_path) as broker:
        url = f"{broker.http_url}/static/admin/css/base.css"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{broker.http_url}/admin/login/", timeout=10) as response:
            assert b"Django" in response.read()


def test_start_fails_clearly_when_the_port_is_taken(tmp_path):
    port = free_port()
    with BrokerProcess(port=port, data_dir=tmp_path / "first"):
        second = BrokerProcess(port=port, data_dir=tmp_path / "second", start_timeout=60)
        with pytest.raises(RuntimeError, match="exited with code"):
            second.start()
        second.stop()


def test_python_m_and_console_script_are_the_same_command():
    from dasf_jupyter.broker.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0


def test_embedded_broker_shuts_down_when_its_parent_dies(tmp_path):
    script = (
        "import sys, time\n"
        "from dasf_jupyter.broker.process import BrokerProcess\n"
        f"b = BrokerProcess(data_dir={str(tmp_path)!r}).start()\n"
        "print(b.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            broker_pid = int(parent.stdout.readline())
        finally:
            parent.kill()  # dies without stopping its broker
            parent.wait(10)
    try:
        eventually(lambda: not alive(broker_pid), timeout=30, interval=0.2)
    except NeverHappened:
        os.kill(broker_pid, signal.SIGKILL)
        pytest.fail("the orphaned broker kept running")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text(errors="replace")
    except FileNotFoundError:
        return False


@pytest.fixture
def installed_settings():
    """The settings dasf-broker installs, reset after the test."""
    from dasf_jupyter.broker import config

    yield config
    config.install(None)


def test_the_cli_hands_its_settings_over_without_writing_the_environment(
    tmp_path, monkeypatch, installed_settings
):
    from dasf_jupyter.broker import __main__, server

    monkeypatch.setenv("DASF_PING_INTERVAL", "0.5")
    monkeypatch.setenv("DASF_MAX_MESSAGE_SIZE", "4096")
    served = []
    monkeypatch.setattr(server, "serve", lambda *args: served.append(args))
    before = dict(os.environ)
    __main__.main(
        ["serve", "--data-dir", str(tmp_path / "d"), "--secure", "--host", "0.0.0.0"]
        + ["--port", "9999", "--max-message-size", "2048", "--allowed-origins", "*"]
    )
    assert dict(os.environ) == before
    assert served == [("0.0.0.0", 9999, "info")]
    settings = installed_settings.current()
    assert settings.secure and settings.max_message_size == 2048  # flags win
    assert settings.ping_interval == 0.5  # the environment fills the rest
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert (settings.listen_host, settings.allowed_origins) == ("0.0.0.0", "*")
    assert not (tmp_path / "d").exists()  # created when the server starts


def test_a_bad_environment_value_stops_the_cli_with_its_name(monkeypatch, capsys):
    from dasf_jupyter.broker import __main__

    monkeypatch.setenv("DASF_ONLINE_WINDOW", "a while")
    with pytest.raises(SystemExit) as info:
        __main__.main(["--port", "1"])
    assert info.value.code == 2
    assert "DASF_ONLINE_WINDOW must be a number, got 'a while'" in capsys.readouterr().err
