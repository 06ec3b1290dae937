"""System checks, with ids namespaced ``longcallbacks.E###`` and ``longcallbacks.W###``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from .conf import DEFAULTS, lc_settings


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    raw = getattr(settings, "LONGCALLBACKS", None)
    if raw is not None and not isinstance(raw, dict):
        return [
            checks.Error(
                f"LONGCALLBACKS must be a dict, not {type(raw).__name__}.",
                hint="Set LONGCALLBACKS = {...} in your settings.",
                id="longcallbacks.E001",
            )
        ]
    for key in lc_settings.user_keys():
        if key not in DEFAULTS:
            import difflib

            close = difflib.get_close_matches(key, DEFAULTS, n=1)
            hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(sorted(DEFAULTS))}."
            messages.append(checks.Error(f"Unknown LONGCALLBACKS key {key!r}.", hint=hint, id="longcallbacks.E002"))
    if lc_settings.STATE_SCOPE not in ("session", "user"):
        messages.append(
            checks.Error(
                f"LONGCALLBACKS['STATE_SCOPE'] is {lc_settings.STATE_SCOPE!r}.",
                hint="Use 'session' or 'user'.",
                id="longcallbacks.E003",
            )
        )
    return messages


def check_sqlite_locking(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    database = settings.DATABASES.get("default", {})
    if "sqlite3" not in database.get("ENGINE", ""):
        return []
    if (database.get("OPTIONS") or {}).get("transaction_mode") == "IMMEDIATE":
        return []
    return [
        checks.Warning(
            "SQLite runs transactions in DEFERRED mode, so concurrent callbacks on one state fail with "
            "'database is locked' instead of waiting for each other.",
            hint="Set DATABASES['default']['OPTIONS'] = {'transaction_mode': 'IMMEDIATE', 'timeout': 20}.",
            id="longcallbacks.W002",
        )
    ]


def check_serializer(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    accept = getattr(settings, "CELERY_ACCEPT_CONTENT", None)
    if accept is not None and any("pickle" in str(item) for item in accept):
        return [
            checks.Error(
                "CELERY_ACCEPT_CONTENT allows pickle; a worker would unpickle whatever reaches the broker.",
                hint="Set CELERY_ACCEPT_CONTENT = ['json'].",
                id="longcallbacks.E004",
            )
        ]
    return []


def check_checker_scheduled(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .checker import CHECK_TASK_NAME, is_checker_scheduled

    if is_checker_scheduled():
        return []
    return [
        checks.Warning(
            "The long callback checker is not in the Celery beat schedule, so runs whose worker died "
            "stay 'running' and queued runs never expire.",
            hint=f"Keep LONGCALLBACKS['SCHEDULE_CHECKER'] on, or add a beat_schedule entry for "
            f"{CHECK_TASK_NAME!r}, and run one celery beat process.",
            id="longcallbacks.W003",
        )
    ]


def register() -> None:
    checks.register(check_settings, "longcallbacks")
    checks.register(check_sqlite_locking, "longcallbacks", checks.Tags.database)
    checks.register(check_serializer, "longcallbacks")
    checks.register(check_checker_scheduled, "longcallbacks")
