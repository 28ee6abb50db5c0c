"""The settings tables: parsing, flags, --help, the generated docs, and where env is read."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dasf_jupyter
from dasf_jupyter import settings_doc
from dasf_jupyter.backend import BackendModule
from dasf_jupyter.backend.config import ModuleSettings, module_settings
from dasf_jupyter.broker.config import BrokerSettings
from dasf_jupyter.jupyter.config import JupyterSettings, kernel_environment
from dasf_jupyter.peer_config import ClientSettings, client_settings
from dasf_jupyter.protocol import API_INFO_EXTENSION
from dasf_jupyter.settings_table import (
    SettingError,
    add_arguments,
    flag_values,
    help_epilog,
    load,
    table,
)

PACKAGE = Path(dasf_jupyter.__file__).resolve().parent
ALL_TABLES = (BrokerSettings, ModuleSettings, ClientSettings, JupyterSettings)


def test_values_come_from_the_mapping_and_default_when_unset_or_blank():
    settings = load(BrokerSettings, {"DASF_PING_INTERVAL": "0.5", "DASF_BROKER_SECURE": " "})
    assert settings.ping_interval == 0.5
    assert settings.secure is False  # blank: the default
    assert load(BrokerSettings, {"DASF_BROKER_SECURE": "yes"}).secure is True
    assert load(BrokerSettings, {}) == BrokerSettings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DASF_PING_INTERVAL": "soon"}, "DASF_PING_INTERVAL must be a number, got 'soon'"),
        ({"DASF_BROKER_SECURE": "maybe"}, "DASF_BROKER_SECURE must be 1 or 0"),
        ({"DASF_MAX_MESSAGE_SIZE": "10"}, "DASF_MAX_MESSAGE_SIZE must be at least 1024 bytes"),
        ({"DASF_TOPIC_QUOTA_PER_USER": "2.5"}, "DASF_TOPIC_QUOTA_PER_USER must be a whole"),
        ({"DASF_ALLOWED_ORIGINS": "not a url"}, "DASF_ALLOWED_ORIGINS"),
        ({"DASF_LOG_LEVEL": "loud"}, "DASF_LOG_LEVEL must be one of"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(env, message):
    with pytest.raises(SettingError, match=message.replace("(", r"\(")):
        load(BrokerSettings, env)


def test_a_flag_wins_over_its_variable_and_an_absent_flag_leaves_it():
    parser = argparse.ArgumentParser()
    add_arguments(parser, BrokerSettings)
    env = {"DASF_MAX_MESSAGE_SIZE": "4096", "DASF_BROKER_SECURE": "1"}
    given = flag_values(parser.parse_args(["--max-message-size", "2048"]), BrokerSettings)
    settings = load(BrokerSettings, env, **given)
    assert (settings.max_message_size, settings.secure) == (2048, True)
    given = flag_values(parser.parse_args(["--no-secure"]), BrokerSettings)
    assert load(BrokerSettings, env, **given).secure is False
    with pytest.raises(TypeError, match="no setting"):
        load(BrokerSettings, {}, colour="blue")


def test_every_setting_is_declared_once_per_table_with_help():
    for cls in ALL_TABLES:
        rows = table(cls)
        assert [r.name for r in rows] == [f.name for f in dataclasses.fields(cls)]
        assert len({r.env for r in rows}) == len(rows), cls
        assert all(r.help for r in rows)


@pytest.mark.parametrize(
    ("argv", "cls"),
    [
        (["dasf_jupyter.broker", "--help"], BrokerSettings),
        (["dasf_jupyter.cli", "serve", "--help"], ModuleSettings),
        (["dasf_jupyter.cli", "call", "--help"], ClientSettings),
        (["dasf_jupyter.cli", "modules", "--help"], ClientSettings),
    ],
)
def test_help_lists_every_variable_with_its_default(argv, cls):
    result = subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for row in table(cls):
        if row.internal:
            continue
        assert row.env in result.stdout
        assert row.default_text() in result.stdout, row.env
    assert help_epilog(cls) in result.stdout


def test_configuration_page_is_generated_from_the_tables():
    path = PACKAGE.parent / "docs" / "configuration.md"
    current = path.read_text() if path.exists() else ""
    assert current == settings_doc.render(), (
        f"docs/configuration.md is stale: run `{settings_doc.COMMAND}`"
    )
    for cls in ALL_TABLES:
        for row in table(cls):
            assert f"`{row.env}`" in current


def _environment_reads(path: Path) -> list[str]:
    """Lines of ``path`` that touch os.environ / os.getenv / os.putenv."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            found.append(f"{path}:{node.lineno}")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names}
            if names & {"environ", "getenv", "putenv"}:
                found.append(f"{path}:{node.lineno}")
    return found


def test_the_protocol_codecs_and_client_never_read_the_environment():
    reads = [
        line
        for folder in ("protocol", "codecs", "client")
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for line in _environment_reads(path)
    ]
    assert reads == []


def test_the_environment_check_finds_a_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nx = os.environ.get('A')\n")
    assert len(_environment_reads(sample)) == 2


def test_peers_read_the_environment_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("DASF_BINARY", "0")
    monkeypatch.setenv("DASF_MODULE_FRAGMENTS_TIMEOUT", "7")
    assert client_settings().binary is False
    assert module_settings().fragment_limits().timeout == 7
    assert client_settings({}).binary is True  # an explicit mapping, not the process's


def test_kernels_are_told_the_servers_broker_and_keep_their_own_token():
    base = {"PATH": "/bin", "DASF_TOKEN": "mine"}
    env = kernel_environment(base, "ws://127.0.0.1:9/ws", "server-token")
    assert env["DASF_BROKER_URL"] == "ws://127.0.0.1:9/ws"
    assert env["DASF_BROKER_SOURCE"] == "jupyter-server"
    assert env["DASF_TOKEN"] == "mine" and env["PATH"] == "/bin"
    assert kernel_environment({}, "", "t") == {"DASF_TOKEN": "t"}
    assert base == {"PATH": "/bin", "DASF_TOKEN": "mine"}  # a copy


def test_importing_the_broker_settings_creates_no_directory(tmp_path):
    data_dir = tmp_path / "not-yet"
    code = "import dasf_jupyter.broker.settings as s; print(s.DASF_DATA_DIR)"
    env = {**os.environ, "DASF_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(data_dir)
    assert not data_dir.exists()


def test_a_module_uses_the_settings_it_is_given(monkeypatch):
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    monkeypatch.setenv("DASF_BINARY", "1")
    given = ModuleSettings(binary=False, fragments_total=1 << 20, fragments_timeout=5.0)
    module = BackendModule("settings-topic", [add], settings=given)
    assert module.api_info()[API_INFO_EXTENSION]["binary_bodies"] == []
    limits = module.dispatcher().fragment_limits
    assert (limits.max_total, limits.timeout) == (1 << 20, 5.0)
    from_env = BackendModule("settings-topic", [add])
    assert from_env.api_info()[API_INFO_EXTENSION]["binary_bodies"] != []
