"""HTTP endpoints of the extension: ``/dasf/config`` and a server-side ``/dasf/topics``."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

if TYPE_CHECKING:
    from .app import DasfServerExtension

DISCOVERY_TIMEOUT = 10.0  # s; the sidebar refreshes every few seconds, so fail fast


def http_base(broker_url: str) -> str:
    """The broker's HTTP base for its websocket base URL: ``ws://h:p/ws`` → ``http://h:p``."""
    scheme, _, rest = broker_url.partition("://")
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    rest = rest.split("?", 1)[0].rstrip("/")
    if rest.endswith("/ws"):
        rest = rest[: -len("/ws")]
    return f"{scheme}://{rest}"


class BrokerLookup:
    """Mixin for handlers: finds the extension and the broker it announces."""

    settings: dict[str, Any]

    @property
    def extension(self) -> DasfServerExtension:
        return self.settings["dasf_extension"]

    async def broker(self) -> tuple[str, str, bool] | None:
        """``(url, token, embedded)`` of this server's broker, None if it has none."""
        ext = self.extension
        if ext.broker_url:
            return ext.broker_url, ext.token, False
        if ext.broker is None:
            return None
        future = asyncio.wrap_future(ext.broker.ready())
        try:
            url = await asyncio.wait_for(future, ext.ready_timeout)
        except asyncio.TimeoutError:
            raise tornado.web.HTTPError(
                503, f"the embedded DASF broker did not start within {ext.ready_timeout} s"
            ) from None
        except Exception as exc:
            raise tornado.web.HTTPError(
                503, f"the embedded DASF broker failed to start: {exc}"
            ) from None
        return url, ext.token, True


class DasfHandler(BrokerLookup, APIHandler):
    """Base of the JSON endpoints."""


class ConfigHandler(DasfHandler):
    """``GET /dasf/config``: the broker URL for this user's UI and kernels.

    The server's broker token is never handed out (``token`` is always null): the browser
    goes through ``/dasf/ws`` and ``/dasf/topics``, which present it, and kernels inherit it
    as ``$DASF_TOKEN``. ``token_required`` says whether there is one.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        found = await self.broker()
        if found is None:
            self.finish(
                json.dumps(
                    {"broker_url": None, "token": None, "token_required": False, "embedded": False}
                )
            )
            return
        url, token, embedded = found
        self.finish(
            json.dumps(
                {
                    "broker_url": url,
                    "http_url": http_base(url),
                    "token": None,
                    "token_required": bool(token),
                    "embedded": embedded,
                    # for browsers that cannot reach the broker directly (JupyterHub, Binder)
                    "proxy_url": url_path_join(self.base_url, "dasf", "ws"),
                }
            )
        )


class TopicsHandler(DasfHandler):
    """``GET /dasf/topics``: the broker's discovery API, fetched by the server (no CORS)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        found = await self.broker()
        if found is None:
            raise tornado.web.HTTPError(404, "this Jupyter server has no DASF broker configured")
        url, token, _ = found
        headers: dict[str, Any] = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        target = f"{http_base(url)}/api/topics/"
        try:
            answer = await AsyncHTTPClient().fetch(
                target, headers=headers, request_timeout=DISCOVERY_TIMEOUT
            )
        except HTTPClientError as exc:
            self.set_status(502)
            self.finish(json.dumps({"detail": f"the broker answered {exc.code} for {target}"}))
            return
        except OSError as exc:
            self.set_status(502)
            self.finish(json.dumps({"detail": f"cannot reach the broker at {target}: {exc}"}))
            return
        try:
            topics = json.loads(answer.body)
        except ValueError:
            self.set_status(502)
            self.finish(json.dumps({"detail": f"{target} did not answer with JSON"}))
            return
        self.finish(json.dumps(topics))
