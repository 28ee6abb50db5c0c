"""ASGI application of the broker: Django for HTTP, our consumers for websockets."""

from __future__ import annotations

import logging

from django.conf import settings

if not settings.configured:  # served by another ASGI server: the broker's settings, no migrations
    from .server import setup_django

    setup_django(migrate=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

# sets Django up before the consumers import models; the static files are the admin's
# CSS/JS, served from the installed packages so the broker needs no collectstatic step
django_http = ASGIStaticFilesHandler(get_asgi_application())

from .origins import OriginGuard, OriginPolicy  # noqa: E402
from .routing import websocket_urlpatterns  # noqa: E402
from .runtime import get_runtime, stop_runtime  # noqa: E402

log = logging.getLogger(__name__)

# browser handshakes from foreign pages are refused before any route or token is looked at
websockets = OriginGuard(
    URLRouter(websocket_urlpatterns),
    OriginPolicy(settings.DASF_ALLOWED_ORIGINS, settings.ALLOWED_HOSTS),
)
router = ProtocolTypeRouter({"http": django_http, "websocket": websockets})


async def _lifespan(receive, send) -> None:
    """Start the runtime (hub, probes, unserved hold) with the server; stop it at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await get_runtime()
            except Exception as exc:
                log.exception("broker startup failed")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stop_runtime()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send) -> None:
    """The broker's ASGI callable."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await router(scope, receive, send)
