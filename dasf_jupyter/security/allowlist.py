"""The allow list: which user keys may call a module, and optionally which functions.

File format, one user per line (``#`` starts a comment)::

    dasf-ed25519 <base64 public key> [name] [functions=add,Greeter.greet]
    <base64 public key> [name] [functions=...]
    SHA256:<fingerprint> [name] [functions=...]

The first form is exactly what ``dasf keygen`` writes to ``<key>.pub``. Without
``functions=`` the user may call everything; ``Greeter`` allows all methods of that class.
The file is re-read when its modification time, size or inode changes; a broken or missing
file refuses every request (fail closed).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import AllowListError, FunctionNotAllowed, UnknownUser
from .keys import IDENTITY_KEY_TYPE, decode_public_key, fingerprint


@dataclass(frozen=True)
class AllowedUser:
    """One line of the allow list."""

    fingerprint: str
    name: str | None = None
    public_key: str | None = None
    #: members this user may call; None = all
    functions: frozenset[str] | None = None

    def may_call(self, member: str | None) -> bool:
        if self.functions is None:
            return True
        if member is None:
            return False
        return member in self.functions or member.split(".", 1)[0] in self.functions


def parse_allow_line(line: str) -> AllowedUser | None:
    """Parse one line; None for blank lines and comments; ValueError if malformed."""
    words = line.split("#", 1)[0].split()
    if not words:
        return None
    if words[0] == IDENTITY_KEY_TYPE:
        words = words[1:]
        if not words:
            raise ValueError(f"{IDENTITY_KEY_TYPE} without a key")
    key, options = words[0], words[1:]
    public_key = None
    if key.startswith("SHA256:"):
        fp = key
    else:
        public_key = key
        fp = fingerprint(decode_public_key(key))
    name, functions = None, None
    for option in options:
        if option.startswith("functions="):
            functions = frozenset(f for f in option[len("functions=") :].split(",") if f)
        elif name is None:
            name = option
        else:
            raise ValueError(f"unexpected word {option!r}")
    return AllowedUser(fp, name, public_key, functions)


class AllowList:
    """Users allowed to call a module, from a file (reloaded on change) or from lines."""

    def __init__(self, path: str | Path | None = None, lines: Iterable[str] = ()) -> None:
        self.path = Path(path).expanduser() if path else None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._users: dict[str, AllowedUser] = {}
        self._error: str | None = None
        if self.path is None:
            self._users = self._parse(lines, "allow list")
        else:
            self._refresh()

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> AllowList:
        return cls(lines=list(lines))

    @staticmethod
    def _parse(lines: Iterable[str], where: str) -> dict[str, AllowedUser]:
        users: dict[str, AllowedUser] = {}
        for number, line in enumerate(lines, 1):
            try:
                user = parse_allow_line(line)
            except ValueError as exc:
                raise AllowListError(f"{where} line {number}: {exc}") from None
            if user is not None:
                users[user.fingerprint] = user
        return users

    def _refresh(self) -> None:
        assert self.path is not None
        try:
            info = os.stat(self.path)
        except OSError as exc:
            self._stamp, self._users = None, {}
            self._error = f"allow list {self.path} cannot be read: {exc.strerror}"
            return
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp == self._stamp:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
            self._users, self._error = self._parse(text.splitlines(), str(self.path)), None
        except (AllowListError, OSError, UnicodeDecodeError) as exc:
            self._users, self._error = {}, f"allow list unusable, refusing requests: {exc}"
        self._stamp = stamp

    def _current(self) -> dict[str, AllowedUser]:
        with self._lock:
            if self.path is not None:
                self._refresh()
            if self._error:
                raise AllowListError(self._error)
            return self._users

    def users(self) -> list[AllowedUser]:
        """The current entries (after reloading the file if it changed)."""
        return list(self._current().values())

    def lookup(self, fp: str) -> AllowedUser | None:
        return self._current().get(fp)

    def check(self, fp: str, member: str | None) -> AllowedUser:
        """The entry of ``fp`` if it may call ``member``; UnknownUser / FunctionNotAllowed."""
        user = self.lookup(fp)
        if user is None:
            raise UnknownUser(f"key {fp} is not on this module's allow list")
        if not user.may_call(member):
            who = user.name or fp
            raise FunctionNotAllowed(f"user {who} is not allowed to call {member!r}")
        return user
