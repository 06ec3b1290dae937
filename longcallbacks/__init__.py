"""Taipy-style long-running callbacks for Django, run on Celery workers and pushed over Channels.

The public names are imported lazily, so ``import longcallbacks`` works before Django's
settings are configured (for example in a Celery or pytest entry point).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "invoke_long_callback": "invoke",
    "LongCallbackHandle": "invoke",
    "invoke_callback": "execution",
    "broadcast_callback": "execution",
    "get_state": "state",
    "get_state_id": "state",
    "State": "state",
    "StateVariables": "variables",
    "notify": "notifications",
    "close_notification": "notifications",
    "LongCallbackError": "exceptions",
    "RejectedFunction": "exceptions",
    "TooManyLongCallbacks": "exceptions",
    "StateNotFound": "exceptions",
    "ResultNotJSON": "exceptions",
    "PublishFailed": "exceptions",
    "WorkerLost": "exceptions",
    "QueueExpired": "exceptions",
    "TaskTimeLimit": "exceptions",
    "LongCallbackCancelled": "exceptions",
    "set_progress": "progress",
    "is_cancelled": "progress",
    "cancel_long_callback": "progress",
    "current_long_callback": "lifecycle",
    "action": "actions",
}

__all__ = [
    "invoke_long_callback",
    "invoke_callback",
    "get_state",
    "get_state_id",
    "notify",
    "close_notification",
    "broadcast_callback",
    "State",
    "StateVariables",
    "LongCallbackHandle",
    "LongCallbackError",
    "RejectedFunction",
    "TooManyLongCallbacks",
    "StateNotFound",
    "ResultNotJSON",
    "PublishFailed",
    "WorkerLost",
    "QueueExpired",
    "TaskTimeLimit",
    "LongCallbackCancelled",
    "set_progress",
    "is_cancelled",
    "cancel_long_callback",
    "current_long_callback",
    "action",
]

if TYPE_CHECKING:
    from .actions import action
    from .exceptions import (
        LongCallbackCancelled,
        LongCallbackError,
        PublishFailed,
        QueueExpired,
        RejectedFunction,
        ResultNotJSON,
        StateNotFound,
        TaskTimeLimit,
        TooManyLongCallbacks,
        WorkerLost,
    )
    from .execution import broadcast_callback, invoke_callback
    from .invoke import LongCallbackHandle, invoke_long_callback
    from .lifecycle import current_long_callback
    from .notifications import close_notification, notify
    from .progress import cancel_long_callback, is_cancelled, set_progress
    from .state import State, get_state, get_state_id
    from .variables import StateVariables


def _register_installed_check() -> None:
    # Registered on import rather than in AppConfig.ready(), which never runs when the app is
    # missing from INSTALLED_APPS: that is the mistake this check reports.
    from django.core import checks

    from .checks import check_app_installed

    checks.register(check_app_installed, "longcallbacks")


_register_installed_check()


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'longcallbacks' has no attribute {name!r}")
    value = getattr(import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
