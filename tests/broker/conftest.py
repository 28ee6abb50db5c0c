"""Configure Django with the broker settings for in-process broker tests.

Uses ``settings.configure`` rather than DJANGO_SETTINGS_MODULE so that subprocesses started by
other tests (brokers, reference peers) do not inherit our settings through the environment.
"""

from __future__ import annotations

import os
import tempfile

import django
import pytest
from django.conf import settings

BROKER_SETTINGS = os.environ.get("DASF_TEST_BROKER_SETTINGS", "dasf_jupyter.broker.settings")


def _configure_django() -> None:
    if settings.configured:
        return
    import importlib

    saved = dict(os.environ)
    # the settings module reads the environment on import; keep its data dir out of ~
    os.environ["DASF_DATA_DIR"] = tempfile.mkdtemp(prefix="dasf-broker-test-")
    for name in ("DASF_BROKER_SECURE", "DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    try:
        module = importlib.import_module(BROKER_SETTINGS)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    settings.configure(**{k: getattr(module, k) for k in dir(module) if k.isupper()})
    django.setup()


_configure_django()


@pytest.fixture
def secure_mode(settings):
    """Run the test with DASF_BROKER_SECURE enabled."""
    settings.DASF_BROKER_SECURE = True
    return settings


@pytest.fixture
def open_mode(settings):
    """Run the test with DASF_BROKER_SECURE disabled (development mode)."""
    settings.DASF_BROKER_SECURE = False
    return settings
