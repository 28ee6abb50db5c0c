"""Django app configuration of the DASF broker."""

from django.apps import AppConfig


class BrokerConfig(AppConfig):
    """The broker app (topics, permissions, tokens)."""

    name = "dasf_jupyter.broker"
    label = "dasfbroker"
    verbose_name = "DASF broker"
    default_auto_field = "django.db.models.BigAutoField"
