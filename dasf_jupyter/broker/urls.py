"""Root URLconf of the broker: discovery API under ``api/``, Django admin under ``admin/``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from . import api

urlpatterns = [
    path("api/", include(api.urlpatterns)),
    path("admin/", admin.site.urls),
]
