"""The Jupyter side's settings table: the server extension and the kernel's ``%dasf``.

The server extension's traitlets take their defaults from here; it hands its broker to the
kernels it starts through their launch environment (:func:`kernel_environment`), never by
writing its own ``os.environ``. A kernel reads them back in ``%dasf connect``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..settings_table import boolean, load, setting, text

#: value of ``DASF_BROKER_SOURCE`` next to the broker URL the server extension announces
SERVER_SOURCE = "jupyter-server"


@dataclass(frozen=True)
class JupyterSettings:
    """What the server extension and ``%dasf`` read (docs/configuration.md, "Jupyter")."""

    broker_url: str = setting(
        "DASF_BROKER_URL",
        text,
        "",
        "websocket URL of the broker the Jupyter server and its kernels use "
        "(c.DasfServerExtension.broker_url); unset: a broker embedded in the server, or in "
        "the kernel",
    )
    token: str = setting(
        "DASF_TOKEN",
        text,
        "",
        "broker token of the sidebar and of `%dasf connect` (c.DasfServerExtension.token)",
    )
    embedded_broker: bool = setting(
        "DASF_EMBEDDED_BROKER",
        boolean,
        True,
        "start a broker with the Jupyter server when no broker URL is set "
        "(c.DasfServerExtension.embedded_broker; always on under Binder)",
    )
    embedded_dir: str = setting(
        "DASF_EMBEDDED_DIR",
        text,
        "",
        "folder under which a kernel's own embedded brokers keep their data",
        shown_default="dasf-jupyter/embedded-broker in the Jupyter data dir",
    )
    broker_source: str = setting(
        "DASF_BROKER_SOURCE",
        text,
        "",
        "who announced DASF_BROKER_URL to a kernel (jupyter-server), shown by %dasf connect",
        internal=True,
    )


def jupyter_settings(environ: Mapping[str, str] | None = None) -> JupyterSettings:
    """The settings in ``environ`` (default: the process environment, now)."""
    return load(JupyterSettings, os.environ if environ is None else environ)


def kernel_environment(base: Mapping[str, str], broker_url: str, token: str) -> dict[str, str]:
    """``base`` with the server's broker announced to a kernel (a token already set stays)."""
    env = dict(base)
    if broker_url:
        env["DASF_BROKER_URL"] = broker_url
        env["DASF_BROKER_SOURCE"] = SERVER_SOURCE
    if token and not env.get("DASF_TOKEN"):
        env["DASF_TOKEN"] = token
    return env
