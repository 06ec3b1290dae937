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
    database: dict[str, Any] = settings.DATABASES.get("default", {})
    if "sqlite3" not in database.get("ENGINE", ""):
        return []
    options: dict[str, Any] = database.get("OPTIONS") or {}
    if options.get("transaction_mode") == "IMMEDIATE":
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
                f"CHANNEL_LAYERS[{alias!r}] is an InMemoryChannelLayer, but Celery's broker "
                f"{broker.split('://')[0]}:// means long callbacks run in separate worker processes, "
                f"whose changes never reach the tabs.",
                hint="Use channels_redis.core.RedisChannelLayer (or another layer shared between processes).",
                id="longcallbacks.W004",
            )
        ]
    return []


def check_live_limits(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report websocket limits that cannot work: non-positive values, or a heartbeat that expires."""
    messages: list[checks.CheckMessage] = []
    for key in (
        "MAX_FRAME_SIZE",
        "ACTION_RATE_LIMIT",
        "ACTION_RATE_PERIOD",
        "CONNECTION_HEARTBEAT_INTERVAL",
        "CONNECTION_TIMEOUT",
    ):
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
                f"LONGCALLBACKS['CONNECTION_HEARTBEAT_INTERVAL'] ({lc_settings.CONNECTION_HEARTBEAT_INTERVAL} s) "
                f"is not shorter than CONNECTION_TIMEOUT ({lc_settings.CONNECTION_TIMEOUT} s), so open tabs count "
                f"as gone between heartbeats and broadcast_callback skips them.",
                hint="Keep CONNECTION_HEARTBEAT_INTERVAL at a third of CONNECTION_TIMEOUT or less.",
                id="longcallbacks.W005",
            )
        )
    return messages


def check_app_installed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Registered when ``longcallbacks`` is imported, so it runs even without the app."""
    from django.apps import apps

    if apps.is_installed("longcallbacks"):
        return []
    return [
        checks.Error(
            "longcallbacks is imported but not in INSTALLED_APPS, so its models, signals and "
            "callbacks modules are not loaded.",
            hint="Add 'longcallbacks' to INSTALLED_APPS and run migrate.",
            id="longcallbacks.E008",
        )
    ]


def _celery_setting(name: str) -> Any:
    """Return a Celery setting from Django's settings (``CELERY_`` prefix) or the current app."""
    django_name = f"CELERY_{name.upper()}"
    if hasattr(settings, django_name):
        return getattr(settings, django_name)
    from celery import current_app

    return current_app.conf.get(name)


def check_result_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    backend = str(_celery_setting("result_backend") or "")
    if backend != "django-db":
        messages.append(
            checks.Warning(
                f"The Celery result backend is {backend or 'not set'!r}; the admin links runs to "
                f"django-celery-results rows only with 'django-db'.",
                hint="Set CELERY_RESULT_BACKEND = 'django-db' and add 'django_celery_results' to INSTALLED_APPS.",
                id="longcallbacks.W007",
            )
        )
    if not _celery_setting("result_extended"):
        messages.append(
            checks.Warning(
                "CELERY_RESULT_EXTENDED is off, so stored task results lack the task name, arguments and worker.",
                hint="Set CELERY_RESULT_EXTENDED = True.",
                id="longcallbacks.W008",
            )
        )
    return messages


def check_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    broker = str(_celery_setting("broker_url") or "")
    if not broker.startswith(("redis://", "rediss://", "sentinel://")):
        return []
    timeout = (_celery_setting("broker_transport_options") or {}).get("visibility_timeout", 3600)
    limit = lc_settings.TIME_LIMIT
    if limit is not None and limit < timeout:
        return []
    shown = "no TIME_LIMIT" if limit is None else f"TIME_LIMIT={limit} s"
    return [
        checks.Warning(
            f"The Redis broker's visibility_timeout is {timeout} s but long callbacks have {shown}; "
            f"a message not acknowledged for longer is delivered again to another worker.",
            hint="Set LONGCALLBACKS['TIME_LIMIT'] below the visibility timeout, or raise "
            "CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] above the longest run.",
            id="longcallbacks.W009",
        )
    ]


def check_setting_values(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    positive_numbers = (
        "CONNECTION_TIMEOUT", "NOTIFICATION_RETENTION", "HEARTBEAT_INTERVAL", "LOST_AFTER", "CHECK_INTERVAL",
        "WAITING_NOTICE_AFTER", "QUEUE_EXPIRY", "REPUBLISH_AFTER", "RECORD_RETENTION_DAYS", "STATE_RETENTION_DAYS",
        "PROGRESS_INTERVAL", "CANCEL_GRACE",
    )  # fmt: skip
    positive_integers = ("MAX_RUNNING_PER_STATE", "PRUNE_BATCH_SIZE", "MAX_PUBLISHES", "NOTIFICATION_DURATION")

    def invalid(key: str, value: Any, expected: str) -> None:
        messages.append(
            checks.Error(
                f"LONGCALLBACKS[{key!r}] is {value!r}, which is invalid.",
                hint=f"Use {expected}.",
                id="longcallbacks.E009",
            )
        )

    for key in positive_numbers:
        value = getattr(lc_settings, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            invalid(key, value, "a number greater than 0")
    for key in positive_integers:
        value = getattr(lc_settings, key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            invalid(key, value, "an int greater than 0")
    limit = lc_settings.TIME_LIMIT
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0):
        invalid("TIME_LIMIT", limit, "None or a number of seconds greater than 0")
    allowed = lc_settings.ALLOWED_MODULES
    if isinstance(allowed, str) or not all(isinstance(item, str) for item in allowed):
        invalid("ALLOWED_MODULES", allowed, "a list or tuple of module names")
    queue = lc_settings.QUEUE
    if queue is not None and not isinstance(queue, str):
        invalid("QUEUE", queue, "None or a queue name")
    handler = lc_settings.ON_EXCEPTION
    if isinstance(handler, str) and handler:
        try:
            import_string(handler)
        except ImportError as exc:
            invalid("ON_EXCEPTION", handler, f"the dotted path of an importable function ({exc})")
    elif handler is not None and not callable(handler):
        invalid("ON_EXCEPTION", handler, "None, a dotted path or a function")
    lost_after, heartbeat = lc_settings.LOST_AFTER, lc_settings.HEARTBEAT_INTERVAL
    numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (lost_after, heartbeat))
    if numbers and lost_after <= 2 * heartbeat:
        invalid("LOST_AFTER", lost_after, f"more than twice HEARTBEAT_INTERVAL ({heartbeat} s)")
    return messages


def register() -> None:
    checks.register(check_settings, "longcallbacks")
    checks.register(check_channel_layer, "longcallbacks")
    checks.register(check_live_limits, "longcallbacks")
    checks.register(check_sqlite_locking, "longcallbacks", checks.Tags.database)
    checks.register(check_serializer, "longcallbacks")
    checks.register(check_checker_scheduled, "longcallbacks")
    checks.register(check_result_backend, "longcallbacks")
    checks.register(check_visibility_timeout, "longcallbacks")
    checks.register(check_setting_values, "longcallbacks")
