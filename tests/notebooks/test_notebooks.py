"""Every notebook runs top to bottom under nbval, and leaves no process behind."""

from __future__ import annotations

import configparser
import json
import re

import pytest

from tests.notebooks.nbtools import (
    ALL_NOTEBOOKS,
    NOTEBOOKS,
    SANITIZE,
    isolated_env,
    run_nbval,
    wait_until_gone,
)

pytestmark = pytest.mark.slow

EXPECTED = {
    "basic",
    "sharing-a-cell",
    "xarray-analysis",
    "forms-for-everyone",
    "secure-federation",
}


def sanitize(text: str) -> str:
    """Apply notebooks/sanitize.cfg the way nbval does (sections in file order)."""
    config = configparser.ConfigParser()
    config.read(SANITIZE, encoding="utf-8")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def test_the_issue_s_notebooks_exist_with_outputs_of_a_real_run():
    assert {n.stem for n in ALL_NOTEBOOKS} >= EXPECTED
    for path in ALL_NOTEBOOKS:
        book = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in book["cells"] if c["cell_type"] == "code"]
        assert code, path
        assert all(c.get("execution_count") for c in code), f"{path.name}: not executed"
        assert not any(o["output_type"] == "error" for c in code for o in c["outputs"]), path
        assert "%load_ext dasf_jupyter" in "".join(code[0]["source"]), path


def test_sanitizer_masks_what_varies_and_keeps_results():
    embedded = (
        "connected to ws://127.0.0.1:41234/ws — the notebook's embedded broker (started by "
        "this kernel)\nbroker data and log: /root/.local/share/jupyter/x/kernel-4242\n"
    )
    server = "connected to ws://127.0.0.1:5555/ws — the broker of the Jupyter server\n"
    expected = "connected to ws://127.0.0.1:PORT/ws — BROKER\n"
    assert sanitize(embedded) == sanitize(server) == expected
    assert sanitize("embedded broker: ws://localhost:1/ws (pid 77)") == (
        "embedded broker: ws://localhost:PORT/ws (pid PID)"
    )
    assert sanitize("<xarray.DataArray 'tas' (lat: 3)> Size: 72B") == (
        "<xarray.DataArray 'tas' (lat: 3)> Size: SIZE"
    )
    assert sanitize("id='data-0b5f6bb6-6a2b-4b8a-9d5c-3c1e2f7a8b9c' at 0x7f3a2b") == (
        "id='data-UUID' at 0xID"
    )
    # results are compared, not masked
    results = "[1.5, 2.5, 3.5, 4.5]\n42\n(288.0, 'K')\n2024-06-01 12:00"
    assert sanitize(results) == results


def test_sanitizer_masks_keys_and_ciphertext_of_the_secure_notebook():
    fp = "SHA256:Pil0ejRnpPFtDxkBVOg3C+6DpzqLGowBpEOrMqMD8XQ"
    key = "X1EVlesYTQqVIkFTfd9H1Ls653wiRNSXXOpIJ/Kd8+E="
    assert sanitize(f"'{fp}'\nfingerprint: {fp}\r\n") == (
        "'SHA256:FINGERPRINT'\nfingerprint: SHA256:FINGERPRINT\r\n"
    )
    assert sanitize(f"dasf-ed25519 {key} alice\npublic key: {key}\n") == (
        "dasf-ed25519 PUBLIC-KEY alice\npublic key: PUBLIC-KEY\n"
    )
    assert sanitize("ciphertext: REUyUQE+KXR6NGek8W0PGQ...\n") == "ciphertext: CIPHERTEXT\n"
    # what the notebook demonstrates stays compared
    shown = "hello alice\nfunction name visible: False\nb'DE2Q\\x01'\nrefused: UnknownUser: key"
    assert sanitize(shown) == shown


def test_notebooks_run_under_nbval_and_stop_their_broker_and_modules(tmp_path):
    home_data = tmp_path / "xdg-data"  # stands in for ~/.local/share
    env = isolated_env(tmp_path, XDG_DATA_HOME=str(home_data))
    result = run_nbval(ALL_NOTEBOOKS, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", result.stdout)
    # secure-federation keeps its identities, module keys and pins in its own temp folder
    assert not (home_data / "dasf-jupyter").exists()
    # kernels, embedded brokers, their watchdogs and the served-file process are all gone
    assert wait_until_gone(str(tmp_path)) == []


def test_nbval_fails_when_a_result_changes(tmp_path):
    book = json.loads((NOTEBOOKS / "basic.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in book["cells"] if "".join(c["source"]) == "demo.add(2, 3)")
    assert "".join(cell["outputs"][0]["data"]["text/plain"]) == "5"
    cell["outputs"][0]["data"]["text/plain"] = ["6"]
    tampered = tmp_path / "basic.ipynb"
    tampered.write_text(json.dumps(book), encoding="utf-8")
    result = run_nbval([tampered], isolated_env(tmp_path))
    assert result.returncode != 0
    assert "1 failed" in result.stdout, result.stdout[-3000:]
    assert wait_until_gone(str(tmp_path / "embedded")) == []
