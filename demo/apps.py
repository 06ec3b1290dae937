from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo pages: Taipy's long-callback examples and a CSV analysis."""

    name = "demo"
    verbose_name = "Long callbacks demo"
    default_auto_field = "django.db.models.BigAutoField"
