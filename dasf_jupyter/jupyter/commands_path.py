"""The kernel finds the project's commands (``!dasf keygen``) wherever Jupyter was started.

A kernel started from a virtualenv's ``jupyter`` without that virtualenv on ``PATH`` (e.g.
``.venv/bin/jupyter lab``) runs ``!dasf ...`` in a shell that does not know ``dasf``. Loading
the extension puts the folder of the kernel's Python, where pip installed ``dasf`` and
``dasf-broker``, in front of ``PATH`` when it is missing there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: the console scripts of dasf-jupyter (pyproject.toml [project.scripts])
COMMANDS = ("dasf", "dasf-broker")


def commands_dir() -> Path | None:
    """The folder holding this installation's ``dasf`` command, if there is one."""
    folder = Path(sys.executable).parent
    return folder if (folder / COMMANDS[0]).exists() else None


def add_commands_to_path(environ: dict[str, str] | None = None) -> bool:
    """Put :func:`commands_dir` first on ``PATH`` unless it is there; True if it was added."""
    env = os.environ if environ is None else environ
    folder = commands_dir()
    if folder is None:
        return False
    entries = env.get("PATH", "").split(os.pathsep)
    if any(e and Path(e).resolve() == folder.resolve() for e in entries if Path(e).is_dir()):
        return False
    env["PATH"] = os.pathsep.join([str(folder), *filter(None, entries)])
    return True
