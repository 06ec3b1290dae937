from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class LongCallbacksConfig(AppConfig):
    name = "longcallbacks"
    verbose_name = _("Long callbacks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import actions, checks, signals
        from .conf import lc_settings

        checks.register()
        signals.connect()
        actions.connect_signals()
        if lc_settings.SCHEDULE_CHECKER:
            from .checker import schedule_checker

            schedule_checker()
        # Import every app's callbacks module so its state variables and actions are declared
        # in web and worker processes alike.
        autodiscover_modules(lc_settings.AUTODISCOVER_MODULE)
