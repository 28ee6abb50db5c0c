"""Minimal Django settings that run dasf-broker-django as a test peer.

Configured only through environment variables so that a subprocess can be pointed at a
throw-away directory: ``DASF_REFBROKER_DIR`` (required, holds the SQLite file) and
``DASF_REFBROKER_STORE`` (dasf-broker-django's ``DASF_STORE_MESSAGES``, default ``cache``).
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR = Path(os.environ["DASF_REFBROKER_DIR"])

# A fixed key is fine: the broker only lives for one test session on loopback.
SECRET_KEY = "dasf-refbroker-test-only-not-secret"  # noqa: S105
DEBUG = False  # DEBUG keeps every SQL query in memory, which grows without bound in long runs
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework.authtoken",
    "guardian",
    "channels",
    "dasf_broker",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

ROOT_URLCONF = "tests.refbroker.urls"
ASGI_APPLICATION = "tests.refbroker.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(STATE_DIR / "refbroker.sqlite3"),
        "OPTIONS": {
            # daphne runs sync consumers in a thread pool; without a busy timeout and
            # immediate write transactions SQLite answers "database is locked".
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        # the default capacity (100) silently drops messages to busy consumers
        "CONFIG": {"capacity": 10_000, "expiry": 600},
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

DASF_CREATE_TOPIC_ON_MESSAGE = True
DASF_STORE_MESSAGES = os.environ.get("DASF_REFBROKER_STORE", "cache")
DASF_WEBSOCKET_URL_ROUTE = "ws/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
