"""A copy of the repository's tracked files, as a clean checkout would have them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: tools a build must not find when "npm is not installed"
NODE_TOOLS = {"npm", "npx", "node", "nodejs", "corepack", "yarn", "jlpm"}


def clean_checkout(target: Path) -> Path:
    """Tracked and new (not ignored) files of the worktree, without build outputs."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if not source.is_file() or name.startswith("dasf_jupyter/labextension/"):
            continue  # deleted in the worktree, or a build output
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    return target


def path_without_node(bin_dir: Path) -> str:
    """A PATH with every program of the current PATH except Node.js and npm."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for program in Path(folder).iterdir():
            link = bin_dir / program.name
            if program.name in NODE_TOOLS or link.exists() or link.is_symlink():
                continue
            link.symlink_to(program)
    return str(bin_dir)
