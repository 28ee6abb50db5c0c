"""The jupyter-server extension application: configuration, broker lifecycle, handlers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Unicode, default

from ..config import jupyter_settings, kernel_environment
from ..server_origin import jupyter_origins
from .embedded import ServerBroker
from .handlers import ConfigHandler, TopicsHandler
from .wsproxy import BrokerSocketProxy


def _on_binder() -> bool:
    # BinderHub sets these in every user pod
    return any(os.environ.get(name) for name in ("BINDER_LAUNCH_HOST", "BINDER_REQUEST"))


class DasfServerExtension(ExtensionApp):
    """Tells the Lab UI and kernels which DASF broker to use, and can run one."""

    name = "dasf_jupyter"
    load_other_extensions = True

    broker_url = Unicode(
        help="Websocket base URL of an existing broker (e.g. ws://broker:8000/ws). "
        "Default: $DASF_BROKER_URL; empty and embedded_broker on: a broker started here."
    ).tag(config=True)

    token = Unicode(help="API token handed to the UI and kernels (default: $DASF_TOKEN).").tag(
        config=True
    )

    embedded_broker = Bool(
        help="Start a broker with the Jupyter server when no broker_url is set, shared by the "
        "sidebar and every kernel (default: on; DASF_EMBEDDED_BROKER=0 turns it off)."
    ).tag(config=True)

    embedded_data_dir = Unicode(
        "", help="Data folder of the embedded broker (default: a temporary folder)."
    ).tag(config=True)

    ready_timeout = Float(
        60.0, help="Seconds /dasf/config waits for the embedded broker to come up."
    ).tag(config=True)

    @default("broker_url")
    def _broker_url_default(self) -> str:
        return jupyter_settings().broker_url

    @default("token")
    def _token_default(self) -> str:
        return jupyter_settings().token

    @default("embedded_broker")
    def _embedded_default(self) -> bool:
        # on by default: under a plain `jupyter lab` the sidebar and the kernels then share one
        # broker (a kernel's own embedded broker would be invisible to the sidebar)
        return jupyter_settings().embedded_broker or _on_binder()

    def initialize_settings(self) -> None:
        self.broker: ServerBroker | None = None
        if not self.broker_url and self.embedded_broker:
            data_dir = Path(self.embedded_data_dir) if self.embedded_data_dir else None
            self.broker = ServerBroker(data_dir=data_dir)
            # the server's port is final only once it listens: start the broker from the loop
            assert self.serverapp is not None  # the server initializes its extensions
            self.serverapp.io_loop.add_callback(self._start_broker)
        self._announce_to_kernels()
        self.settings["dasf_extension"] = self

    def _start_broker(self) -> None:
        """Start the embedded broker; pages of this Jupyter server may open its websockets."""
        if self.broker is None:
            return
        app = self.serverapp
        assert app is not None  # the server initializes its extensions
        scheme = "https" if app.certfile else "http"
        self.broker.start(jupyter_origins(scheme, app.ip, app.port))

    def kernel_broker_url(self) -> str:
        """The broker URL kernels of this server are told."""
        return self.broker.url if self.broker is not None else self.broker_url

    def _announce_to_kernels(self) -> None:
        """Kernels started by this server get its broker in their launch environment.

        `%dasf connect` finds it there; the server's own ``os.environ`` is left alone.
        """
        if self.serverapp is None:
            return
        manager = self.serverapp.kernel_manager
        start_kernel = manager.start_kernel

        async def start_announced(*args: Any, **kwargs: Any) -> Any:
            base = kwargs.get("env") or os.environ
            kwargs["env"] = kernel_environment(base, self.kernel_broker_url(), self.token)
            return await start_kernel(*args, **kwargs)

        # this server's manager only; jupyter-server has no hook for a kernel's environment
        manager.start_kernel = start_announced  # type: ignore[method-assign]

    def initialize_handlers(self) -> None:
        self.handlers.extend(
            [
                (r"/dasf/config/?", ConfigHandler),
                (r"/dasf/topics/?", TopicsHandler),
                (r"/dasf/ws/(.+)", BrokerSocketProxy),
            ]
        )

    async def stop_extension(self) -> None:
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
