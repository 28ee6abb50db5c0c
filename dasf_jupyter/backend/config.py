"""The module's settings table: what ``dasf serve`` and ``BackendModule.serve`` read.

The environment is read here, when a module is made or served (the edge), never by the
protocol core: the dispatcher and the sockets get the values as parameters or from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..peer_config import binary_setting, fragment_settings, log_summary_setting, token_setting
from ..protocol.fragment_limits import MODULE_LIMITS, FragmentLimits
from ..settings_table import load, read_one, setting, text

_fragments = fragment_settings("DASF_MODULE_FRAGMENTS", MODULE_LIMITS, ("request", "requests"))


@dataclass(frozen=True)
class ModuleSettings:
    """What a backend module process is configured with (docs/configuration.md, "Module")."""

    binary: bool = binary_setting()
    fragments_max_payload: int = _fragments[0]
    fragments_per_sender: int = _fragments[1]
    fragments_total: int = _fragments[2]
    fragments_timeout: float = _fragments[3]
    log_summary_interval: float = log_summary_setting()
    token: str = token_setting("the module connects with")
    redis_url: str = setting(
        "DASF_REDIS_URL",
        text,
        "",
        "Redis shared by the replicas of a module for replay protection (seen request nonces); "
        "unset: a file next to the module key",
        flag="--redis",
        metavar="URL",
    )

    def fragment_limits(self) -> FragmentLimits:
        """Bounds of the request assembler."""
        return FragmentLimits(
            max_payload=self.fragments_max_payload,
            max_per_sender=self.fragments_per_sender,
            max_total=self.fragments_total,
            timeout=self.fragments_timeout,
            log_interval=self.log_summary_interval,
        )


def module_settings(environ: Mapping[str, str] | None = None) -> ModuleSettings:
    """The module's settings from ``environ`` (default: the process environment, now)."""
    return load(ModuleSettings, os.environ if environ is None else environ)


def module_limits() -> FragmentLimits:
    """The module's fragment bounds (``DASF_MODULE_FRAGMENTS_*``)."""
    return module_settings().fragment_limits()


def log_summary_interval() -> float:
    """``DASF_LOG_SUMMARY_INTERVAL`` of this module process."""
    return float(read_one(ModuleSettings, "log_summary_interval", os.environ))


def replay_redis_url() -> str | None:
    """``DASF_REDIS_URL``, or None."""
    return str(read_one(ModuleSettings, "redis_url", os.environ)) or None
