"""Where security files live and how they are written: private modes, atomic replace."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import KeyFileError

#: file mode of private keys and pinning files (owner read/write only)
PRIVATE_FILE_MODE = 0o600
#: mode of directories created for them
PRIVATE_DIR_MODE = 0o700


def data_dir() -> Path:
    """``$XDG_DATA_HOME/dasf-jupyter`` (default ``~/.local/share/dasf-jupyter``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "dasf-jupyter"


def default_key_dir() -> Path:
    """Directory of module key pairs."""
    return data_dir() / "keys"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and missing parents with mode 0700 (existing dirs are left alone)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created concurrently
        os.chmod(directory, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask


def check_private_file(path: Path) -> None:
    """Refuse a secret file that others may read or write (like ssh does)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"{path} is accessible by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run `chmod 600 {path}`"
        )


def _write_temp(path: Path, data: bytes) -> Path:
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Path(tmp)


def write_private_new(path: Path, data: bytes) -> bool:
    """Create ``path`` (mode 0600) with ``data`` unless it exists; True if we created it.

    Link-then-unlink makes creation atomic: a concurrent reader never sees half a key and
    two processes racing to create a key end up sharing the first one.
    """
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def write_private_replace(path: Path, data: bytes) -> None:
    """Write ``path`` (mode 0600) atomically, replacing what was there."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
