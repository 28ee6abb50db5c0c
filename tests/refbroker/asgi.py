"""ASGI entry point: HTTP via Django, websockets via dasf-broker-django's routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.refbroker.settings")
# Django must be set up before the channels/dasf_broker imports below touch models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from dasf_broker.routing import websocket_urlpatterns  # noqa: E402
from dasf_broker.token_auth_middleware import TokenAuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TokenAuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
