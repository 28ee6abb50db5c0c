"""What ``import dasf_jupyter as dasf`` offers, and that importing it stays cheap."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dasf_jupyter as dasf

ROOT = Path(__file__).resolve().parents[1]


def test_the_public_names_are_exactly_these():
    assert sorted(dasf.__all__) == sorted(
        [
            "BackendModule",
            "BrokerError",
            "BrokerRefused",
            "CallTimeout",
            "Caller",
            "Connection",
            "ConnectionLost",
            "DasfError",
            "ModuleNotServed",
            "PayloadTooLarge",
            "ProgressReporter",
            "ProtocolError",
            "RemoteError",
            "RemoteModule",
            "Security",
            "__version__",
            "connect",
            "load_ipython_extension",
            "unload_ipython_extension",
        ]
    )
    for name in dasf.__all__:
        assert getattr(dasf, name) is not None, name
    assert set(dasf.__all__) <= set(dir(dasf))


def test_the_public_names_are_the_ones_users_know():
    from dasf_jupyter.backend import BackendModule, ProgressReporter
    from dasf_jupyter.client import Connection, connect
    from dasf_jupyter.security import Caller

    assert dasf.connect is connect
    assert dasf.Connection is Connection
    assert dasf.BackendModule is BackendModule
    assert dasf.ProgressReporter is ProgressReporter
    assert dasf.Caller is Caller


def test_an_unknown_name_is_an_attribute_error():
    try:
        dasf.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_the_version_is_the_one_in_pyproject():
    pyproject = (ROOT / "pyproject.toml").read_text()
    [version] = re.findall(r'^version = "([^"]+)"$', pyproject, flags=re.MULTILINE)
    assert dasf.__version__ == version


def test_importing_the_package_loads_no_heavy_dependency():
    probe = (
        "import sys, dasf_jupyter as dasf\n"
        "heavy = ['websockets', 'pydantic', 'xarray', 'numpy', 'cryptography', 'IPython',"
        " 'dasf_jupyter.client', 'dasf_jupyter.backend', 'dasf_jupyter.jupyter']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert loaded == ""
