"""Root URLconf of the broker: discovery API under ``api/``, Django admin under ``admin/``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from . import api

urlpatterns = [
    path("api/", include(api.urlpatterns)),
    path("admin/", admin.site.urls),
]

# an unknown Host (DNS rebinding, a missing DASF_ALLOWED_HOSTS entry) is answered with why
handler400 = "dasf_jupyter.broker.origins.bad_request"
