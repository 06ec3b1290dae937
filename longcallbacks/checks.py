"""System checks, with ids namespaced ``longcallbacks.E###`` and ``longcallbacks.W###``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

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


def redis_client_major() -> int:
    """Return the major version of redis-py, or 0 when it is not installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return int(version("redis").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return 0


def check_channel_layer(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report a channel layer that is missing or unusable, and one that cannot reach workers."""
    alias = lc_settings.CHANNEL_LAYER
    layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
    config = layers.get(alias) if isinstance(layers, dict) else None
    if not isinstance(config, dict) or not config.get("BACKEND"):
        return [
            checks.Error(
                f"CHANNEL_LAYERS has no layer {alias!r} with a BACKEND, so no change reaches open browser tabs.",
                hint="Set CHANNEL_LAYERS = {'default': {'BACKEND': 'channels_redis.core.RedisChannelLayer', "
                "'CONFIG': {'hosts': [REDIS_URL]}}}, or set LONGCALLBACKS['CHANNEL_LAYER'] to an existing alias.",
                id="longcallbacks.E005",
            )
        ]
    backend = config["BACKEND"]
    try:
        import_string(backend)
    except ImportError as exc:
        return [
            checks.Error(
                f"CHANNEL_LAYERS[{alias!r}]['BACKEND'] is {backend!r}, which cannot be imported: {exc}.",
                hint="Install the package that provides it (channels-redis for RedisChannelLayer) or fix the path.",
                id="longcallbacks.E006",
            )
        ]

    if backend.startswith("channels_redis.") and redis_client_major() >= 8:
        hosts = (config.get("CONFIG") or {}).get("hosts") or ["redis://localhost:6379"]
        if any(not isinstance(host, dict) or "socket_timeout" not in host for host in hosts):
            return [
                checks.Warning(
                    f"CHANNEL_LAYERS[{alias!r}] uses channels_redis with redis-py 8 or newer, whose default "
                    f"socket_timeout of 5 s ends the blocking receive of every idle consumer, so websockets close "
                    f"with code 1011 every few seconds.",
                    hint="Give each host as {'address': REDIS_URL, 'socket_timeout': None}.",
                    id="longcallbacks.W006",
                )
            ]

    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
    if backend.endswith("InMemoryChannelLayer") and broker and not broker.startswith("memory://") and not eager:
        return [
            checks.Warning(
                f"CHANNEL_LAYERS[{alias!r}] is an InMemoryChannelLayer, but Celery's broker {broker.split('://')[0]}:// "
                f"means long callbacks run in separate worker processes, whose changes never reach the tabs.",
                hint="Use channels_redis.core.RedisChannelLayer (or another layer shared between processes).",
                id="longcallbacks.W004",
            )
        ]
    return []


def check_live_limits(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report websocket limits that cannot work: non-positive values, or a heartbeat that expires."""
    messages: list[checks.CheckMessage] = []
    for key in ("MAX_FRAME_SIZE", "ACTION_RATE_LIMIT", "ACTION_RATE_PERIOD", "CONNECTION_HEARTBEAT_INTERVAL", "CONNECTION_TIMEOUT"):
        value = getattr(lc_settings, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            messages.append(
                checks.Error(
                    f"LONGCALLBACKS[{key!r}] is {value!r}.",
                    hint="Use a positive number; the setting's comment in longcallbacks/conf.py gives the unit.",
                    id="longcallbacks.E007",
                )
            )
    if messages:
        return messages
    if lc_settings.CONNECTION_HEARTBEAT_INTERVAL >= lc_settings.CONNECTION_TIMEOUT:
        messages.append(
            checks.Warning(
                f"LONGCALLBACKS['CONNECTION_HEARTBEAT_INTERVAL'] ({lc_settings.CONNECTION_HEARTBEAT_INTERVAL} s) is not shorter than "
                f"CONNECTION_TIMEOUT ({lc_settings.CONNECTION_TIMEOUT} s), so open tabs count as gone between heartbeats "
                f"and broadcast_callback skips them.",
                hint="Keep CONNECTION_HEARTBEAT_INTERVAL at a third of CONNECTION_TIMEOUT or less.",
                id="longcallbacks.W005",
            )
        )
    return messages


def register() -> None:
    checks.register(check_settings, "longcallbacks")
    checks.register(check_channel_layer, "longcallbacks")
    checks.register(check_live_limits, "longcallbacks")
    checks.register(check_sqlite_locking, "longcallbacks", checks.Tags.database)
    checks.register(check_serializer, "longcallbacks")
    checks.register(check_checker_scheduled, "longcallbacks")
