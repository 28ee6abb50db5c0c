"""Helpers of the notebook tests: run nbval in a subprocess, find processes a run left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.waiting import NeverHappened, eventually

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))
NBVAL_TIMEOUT = 600.0  # s, for the whole nbval run; each cell has its own timeout too


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a notebook run: own Jupyter folders, own embedded-broker folder."""
    env = dict(os.environ)
    for name in ("DASF_BROKER_URL", "DASF_TOKEN", "JUPYTER_SERVER_URL", "JUPYTERHUB_SERVICE_URL"):
        env.pop(name, None)  # the notebooks must find (or start) their broker themselves
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        DASF_EMBEDDED_DIR=str(tmp_path / "embedded"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    # PATH as the caller has it, without this virtualenv: scripts/lab.sh starts
    # .venv/bin/jupyter the same way, so a notebook's `!dasf ...` must work without help
    venv_bin = str(Path(sys.executable).parent)
    entries = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in entries if p != venv_bin)
    env.update(extra)
    return env


def nbval_command(notebooks: list[Path], *, prefix: tuple[str, ...] = ()) -> list[str]:
    """``pytest --nbval`` on ``notebooks`` in the current environment, with our sanitizer."""
    return [
        *prefix,
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(SANITIZE),
        "--nbval-cell-timeout=180",
        *[str(n) for n in notebooks],
    ]


def run_nbval(
    notebooks: list[Path], env: dict[str, str], prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run nbval (bounded) and return the finished process with its output."""
    return subprocess.run(
        nbval_command(notebooks, prefix=prefix),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=NBVAL_TIMEOUT,
    )


def processes_mentioning(marker: str) -> list[int]:
    """Pids of processes whose command line or environment contains ``marker``."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            data = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours
        if needle in data:
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, timeout: float = 20.0) -> list[int]:
    """Processes still mentioning ``marker`` after up to ``timeout`` seconds (empty: clean)."""

    def left() -> list[int]:
        return [pid for pid in processes_mentioning(marker) if not _zombie(pid)]

    try:
        eventually(lambda: not left(), timeout=timeout, interval=0.25)
    except NeverHappened:
        return left()
    return []


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def untrusted_notebooks(env: dict[str, str]) -> list[str]:
    """Shipped notebooks that Jupyter, in ``env``'s data folder, would open untrusted."""
    code = (
        "import nbformat, pathlib, sys\n"
        "from nbformat.sign import NotebookNotary\n"
        "notary = NotebookNotary()\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.ipynb')):\n"
        "    if not notary.check_signature(nbformat.read(p, as_version=4)):\n"
        "        print(p.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(NOTEBOOKS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()
