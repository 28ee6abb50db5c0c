"""HTTP routes of the reference broker: admin and dasf-broker-django's status views."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dasf-broker-django/", include("dasf_broker.urls")),
]
