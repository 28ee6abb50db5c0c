"""jupyter-server extension: the broker for this server (``GET /dasf/config``), embedded or not.

Enable with ``jupyter server --ServerApp.jpserver_extensions='{"dasf_jupyter.jupyter.server":
True}'`` or the config file shipped in ``etc/``; configure through ``c.DasfServerExtension.*``.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import DasfServerExtension

    return [{"module": "dasf_jupyter.jupyter.server", "app": DasfServerExtension}]
