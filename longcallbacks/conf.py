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
    # Seconds between heartbeats that a worker writes for each running long callback.
    "HEARTBEAT_INTERVAL": 5,
    # Seconds without a heartbeat after which a running long callback is declared lost.
    "LOST_AFTER": 30,
    # Seconds between runs of the checker task that Celery beat schedules.
    "CHECK_INTERVAL": 2,
    # Seconds a long callback may stay queued before the user is notified that it waits for a worker.
    "WAITING_NOTICE_AFTER": 30,
    # Seconds a long callback may stay queued before it fails as expired.
    "QUEUE_EXPIRY": 60 * 60,
    # Seconds a long callback may stay queued before its task message is sent again, in case
    # the broker lost it (a Redis restart without persistence). Duplicates never run twice.
    "REPUBLISH_AFTER": 5 * 60,
    # Times a queued long callback's message is sent at most, the first time included.
    "MAX_PUBLISHES": 3,
    # Hard time limit in seconds for a user function (Celery's time_limit); None for none.
    "TIME_LIMIT": None,
    # Days after which finished long callback records are deleted.
    "RECORD_RETENTION_DAYS": 30,
    # Days without a change after which a state with no running work is deleted.
    "STATE_RETENTION_DAYS": 90,
    # Folders of the default storage whose files (uploads for user functions, say) are
    # deleted UPLOAD_RETENTION seconds after their last change.
    "UPLOAD_DIRECTORIES": (),
    "UPLOAD_RETENTION": 24 * 60 * 60,
    # Rows deleted per statement when pruning, so memory and lock time stay bounded.
    "PRUNE_BATCH_SIZE": 1000,
    # Seconds between progress writes of one run; calls in between update nothing.
    "PROGRESS_INTERVAL": 0.25,
    # Seconds a cancelled run may keep running before its process is terminated (prefork
    # pools only; other pools can only stop cooperatively).
    "CANCEL_GRACE": 10,
    # Add the checker to the Celery app's beat_schedule at startup.
    "SCHEDULE_CHECKER": True,
    # Largest websocket frame, in bytes, that a consumer accepts from a browser; a larger
    # frame closes the socket with code 1009. Daphne's own limit (1 MiB by default) applies first.
    "MAX_FRAME_SIZE": 64 * 1024,
    # Actions one websocket may send per ACTION_RATE_PERIOD; more get a "rate_limited" error.
    "ACTION_RATE_LIMIT": 10,
    # Length in seconds of the sliding window that ACTION_RATE_LIMIT counts actions in.
    "ACTION_RATE_PERIOD": 1.0,
    # Seconds between two updates of Connection.last_seen_at by an open websocket's consumer;
    # keep it well under CONNECTION_TIMEOUT.
    "CONNECTION_HEARTBEAT_INTERVAL": 30,
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
