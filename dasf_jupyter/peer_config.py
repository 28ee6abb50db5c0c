"""The client's settings table, and the settings every peer of a broker shares.

A peer is a process that connects to a broker: a client (``connect``, ``dasf call``) or a
module (``dasf serve``, backend/config.py). The protocol core and the client never read the
environment; the edges that open sockets, connections and dispatchers ask this module, which
reads the process environment (or the mapping passed in) each time, so a setting changed
before a connection is opened applies to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .log_limits import DEFAULT_INTERVAL
from .protocol.fragment_limits import CLIENT_LIMITS, FragmentLimits
from .settings_table import boolean, integer, load, number, read_one, setting, text

MiB = 1 << 20


def _mib(size: int) -> str:
    return f"{size // MiB} MiB" if size % MiB == 0 else str(size)


def binary_setting() -> bool:
    """``DASF_BINARY``: one switch for all websockets of the process."""
    return setting(
        "DASF_BINARY",
        boolean,
        True,
        "binary websocket frames and bodies with our broker and modules (docs/binary-frames.md); "
        "0 keeps this process to the reference's text format",
    )


def log_summary_setting() -> float:
    """``DASF_LOG_SUMMARY_INTERVAL``: how often repeated warnings are summarised."""
    return setting(
        "DASF_LOG_SUMMARY_INTERVAL",
        number(positive=True),
        DEFAULT_INTERVAL,
        "seconds between two log lines about the same kind of bad input (the others are "
        "counted and summarised)",
    )


def token_setting(used_by: str) -> str:
    """``DASF_TOKEN``: the broker token when none is given."""
    return setting(
        "DASF_TOKEN", text, "", f"broker token {used_by}", flag="--token", metavar="TOKEN"
    )


def fragment_settings(
    prefix: str, defaults: FragmentLimits, what: tuple[str, str]
) -> tuple[int, int, int, float]:
    """The four ``<prefix>_*`` bounds of incomplete messages (``what``: request, requests)."""
    one, many = what
    return (
        setting(
            f"{prefix}_MAX_PAYLOAD",
            integer(1, "bytes"),
            defaults.max_payload,
            f"largest reassembled {one}, in bytes",
            shown_default=_mib(defaults.max_payload),
        ),
        setting(
            f"{prefix}_PER_SENDER",
            integer(1, "bytes"),
            defaults.max_per_sender,
            f"incomplete {many} of one sender together, in bytes (the oldest is dropped)",
            shown_default=_mib(defaults.max_per_sender),
        ),
        setting(
            f"{prefix}_TOTAL",
            integer(1, "bytes"),
            defaults.max_total,
            f"all incomplete {many} together, in bytes (the oldest is dropped)",
            shown_default=_mib(defaults.max_total),
        ),
        setting(
            f"{prefix}_TIMEOUT",
            number(positive=True),
            defaults.timeout,
            f"seconds an incomplete {one} waits for its other fragments",
        ),
    )


_client_fragments = fragment_settings("DASF_CLIENT_FRAGMENTS", CLIENT_LIMITS, ("reply", "replies"))


@dataclass(frozen=True)
class ClientSettings:
    """What a client process is configured with (docs/configuration.md, "Client")."""

    binary: bool = binary_setting()
    fragments_max_payload: int = _client_fragments[0]
    fragments_per_sender: int = _client_fragments[1]
    fragments_total: int = _client_fragments[2]
    fragments_timeout: float = _client_fragments[3]
    log_summary_interval: float = log_summary_setting()
    token: str = token_setting("of `dasf call` and `dasf modules`")

    def fragment_limits(self, max_payload: int | None = None) -> FragmentLimits:
        """Bounds of the reply assembler; ``max_payload`` (``connect(max_payload=)``) wins."""
        return FragmentLimits(
            max_payload=self.fragments_max_payload if max_payload is None else max_payload,
            max_per_sender=self.fragments_per_sender,
            max_total=self.fragments_total,
            timeout=self.fragments_timeout,
            log_interval=self.log_summary_interval,
        )


def client_settings(environ: Mapping[str, str] | None = None) -> ClientSettings:
    """The client's settings from ``environ`` (default: the process environment, now)."""
    return load(ClientSettings, os.environ if environ is None else environ)


def binary_enabled() -> bool:
    """False when ``DASF_BINARY=0``: no binary frames or bodies are offered or asked for."""
    return bool(read_one(ClientSettings, "binary", os.environ))


def log_summary_interval() -> float:
    """``DASF_LOG_SUMMARY_INTERVAL`` of this process."""
    return float(read_one(ClientSettings, "log_summary_interval", os.environ))
