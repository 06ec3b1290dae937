"""The ``LONGCALLBACKS`` settings dict, read lazily so ``override_settings`` works."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING_NAME = "LONGCALLBACKS"

DEFAULTS: dict[str, Any] = {
    # Dotted path of ``on_exception(state, function_name, exception)``, or None to log a warning.
    "ON_EXCEPTION": None,
    # Module prefixes, besides INSTALLED_APPS packages, whose functions may run on workers.
    "ALLOWED_MODULES": (),
    # "session": one state per Django session. "user": one state per authenticated user,
    # falling back to the session for anonymous users.
    "STATE_SCOPE": "session",
    # Module name looked up in every installed app at startup, like admin.py for the admin.
    "AUTODISCOVER_MODULE": "callbacks",
    # Alias in CHANNEL_LAYERS used to push changes to browser tabs.
    "CHANNEL_LAYER": "default",
    # Celery queue for long callbacks; None uses Celery's default queue.
    "QUEUE": None,
    # Seconds a connection counts as open without a heartbeat from its consumer.
    "CONNECTION_TIMEOUT": 90,
    # Long callbacks allowed to be queued or running at once for one state.
    "MAX_RUNNING_PER_STATE": 5,
    # Seconds an undelivered notification is kept for the next connect.
    "NOTIFICATION_RETENTION": 24 * 60 * 60,
    # Default toast duration in milliseconds, as in Taipy.
    "NOTIFICATION_DURATION": 3000,
}


class LongCallbacksSettings:
    """Attribute access to ``settings.LONGCALLBACKS`` merged over :data:`DEFAULTS`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._cache is None:
            user_settings = getattr(django_settings, SETTING_NAME, None) or {}
            merged = dict(DEFAULTS)
            merged.update(user_settings)
            self._cache = merged
        return self._cache

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        values = self._load()
        if name not in DEFAULTS:
            raise AttributeError(f"{SETTING_NAME} has no setting named {name!r}.")
        return values[name]

    def user_keys(self) -> list[str]:
        """Return the keys the project set, for the unknown-key system check."""
        return list((getattr(django_settings, SETTING_NAME, None) or {}).keys())

    def reload(self) -> None:
        self._cache = None


lc_settings = LongCallbacksSettings()


@receiver(setting_changed)
def _reload_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        lc_settings.reload()
