"""Forwarding of stdout, stderr and logging of a running call as ``log`` messages.

Capture is scoped to the worker thread that runs the call: ``sys.stdout``/``sys.stderr`` are
replaced (once, while any module forwards output) by streams that route writes of a capturing
thread to its sink and everything else to the original stream.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

#: receives ``{"level", "message", "logger"}`` dicts
LogSink = Callable[[dict[str, Any]], None]

#: log messages per call; beyond this one notice is sent and the rest is dropped
MAX_MESSAGES_PER_CALL = 10_000

# records of these loggers are our own machinery (sending a log message logs itself)
_INTERNAL_LOGGERS = ("dasf_jupyter", "websockets", "concurrent")


class _Capture:
    """The per-thread state of one forwarded call."""

    def __init__(self, sink: LogSink, limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.sent = 0
        self.partial: dict[str, str] = {}
        self.emitting = False

    def send(self, level: str, message: str, logger: str) -> None:
        if self.emitting or self.sent > self.limit:
            return
        self.emitting = True  # a sink that logs or prints must not recurse into us
        try:
            self.sent += 1
            if self.sent > self.limit:
                message, level = f"log output truncated after {self.limit} messages", "WARNING"
            self.sink({"level": level, "message": message, "logger": logger})
        except Exception:  # forwarding is best effort; it never breaks the call
            pass
        finally:
            self.emitting = False

    def write(self, name: str, level: str, text: str) -> None:
        buffered = self.partial.get(name, "") + text
        *lines, rest = buffered.split("\n")
        self.partial[name] = rest
        for line in lines:
            self.send(level, line, name)

    def flush_partial(self) -> None:
        for name, rest in list(self.partial.items()):
            if rest:
                self.send("ERROR" if name == "stderr" else "INFO", rest, name)
        self.partial.clear()


_local = threading.local()


def _current() -> _Capture | None:
    return getattr(_local, "capture", None)


class _RoutedStream(io.TextIOBase):
    """Writes of capturing threads go to their sink, all others to ``original``."""

    def __init__(self, original: TextIO, name: str, level: str) -> None:
        self.original = original
        self.name = name
        self.level = level

    def write(self, text: str) -> int:
        capture = _current()
        if capture is None:
            return self.original.write(text)
        capture.write(self.name, self.level, text)
        return len(text)

    def flush(self) -> None:
        if _current() is None:
            self.original.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.original.fileno()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")


class _ForwardingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        capture = _current()
        if capture is None or record.name.startswith(_INTERNAL_LOGGERS):
            return
        try:
            message = self.format(record)
        except Exception:
            message = str(record.msg)
        capture.send(record.levelname, message, record.name)


class _Installation:
    """Reference-counted replacement of the process-wide streams and a root log handler."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.handler = _ForwardingHandler()
        self.stdout: _RoutedStream | None = None
        self.stderr: _RoutedStream | None = None

    def acquire(self) -> None:
        with self.lock:
            self.users += 1
            if self.users == 1:
                logging.getLogger().addHandler(self.handler)
            # (re)install on every call: pytest or Jupyter may have replaced the streams since
            if sys.stdout is not self.stdout:
                self.stdout = _RoutedStream(sys.stdout, "stdout", "INFO")
                sys.stdout = self.stdout
            if sys.stderr is not self.stderr:
                self.stderr = _RoutedStream(sys.stderr, "stderr", "ERROR")
                sys.stderr = self.stderr

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users > 0:
                return
            logging.getLogger().removeHandler(self.handler)
            # restore only what is still ours; someone may have replaced it since
            if sys.stdout is self.stdout and self.stdout is not None:
                sys.stdout = self.stdout.original
            if sys.stderr is self.stderr and self.stderr is not None:
                sys.stderr = self.stderr.original
            self.stdout = self.stderr = None


_installation = _Installation()


@contextmanager
def forward_output(sink: LogSink, limit: int = MAX_MESSAGES_PER_CALL) -> Iterator[None]:
    """Send this thread's stdout/stderr lines and log records to ``sink`` while inside."""
    _installation.acquire()
    previous = _current()
    capture = _Capture(sink, limit)
    _local.capture = capture
    try:
        yield
    finally:
        capture.flush_partial()
        _local.capture = previous
        _installation.release()
