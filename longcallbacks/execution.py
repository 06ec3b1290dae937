"""Running user callbacks on a state: exactly once, locked, and never letting an exception escape."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import lc_settings
from .logs import get_logger
from .models import Connection
from .state import State, held_state

logger = get_logger("callbacks")


def callable_name(function: Any) -> str:
    return getattr(function, "__qualname__", None) or getattr(function, "__name__", None) or repr(function)


def handle_exception(state: State, function_name: str, exception: BaseException) -> None:
    """Send ``exception`` to the ON_EXCEPTION handler, or log it with its traceback."""
    handler_setting = lc_settings.ON_EXCEPTION
    if not handler_setting:
        logger.warning(
            "%s raised %s on state %s: %s",
            function_name,
            type(exception).__name__,
            state._state_id,
            exception,
            exc_info=(type(exception), exception, exception.__traceback__),
        )
        return

    logger.info(
        "%s raised %s on state %s; calling ON_EXCEPTION.", function_name, type(exception).__name__, state._state_id
    )
    try:
        handler = import_string(handler_setting) if isinstance(handler_setting, str) else handler_setting
        with state._locked():
            handler(state, function_name, exception)
    except Exception:
        logger.exception(
            "ON_EXCEPTION handler %r raised while handling %s from %s on state %s.",
            handler_setting,
            type(exception).__name__,
            function_name,
            state._state_id,
        )


def run_user_callback(
    state: State, callback: Callable[..., Any], args: Iterable[Any], *, function_name: str | None = None
) -> tuple[bool, Any]:
    """Call ``callback(state, *args)`` in a savepoint and return ``(succeeded, return value)``.

    An exception rolls back the callback's changes, goes to :func:`handle_exception` and
    is not raised again, so a failing status function cannot change a long callback's outcome.
    """
    try:
        with state._locked():
            return True, callback(state, *args)
    except Exception as exc:
        handle_exception(state, function_name or callable_name(callback), exc)
        return False, None


def invoke_callback(state_id: str, callback: Callable[..., Any], args: Iterable[Any] | None = None) -> Any:
    """Run ``callback(state, *args)`` now on the state with id ``state_id``, in this process.

    Works from a worker's user function, a thread of the web process or a management
    command. The state stays locked while the callback runs, so keep callbacks short. Returns
    the callback's return value, or None when it raised (the exception is handled as
    :func:`run_user_callback` describes).
    """
    if isinstance(state_id, (State, HttpRequest)):
        raise TypeError("invoke_callback() takes a state id; pass get_state_id(state) instead of the state.")
    if not isinstance(state_id, str) or not state_id:
        raise TypeError(f"state_id must be a non-empty str, not {state_id!r}.")
    if not callable(callback):
        raise TypeError(f"callback must be callable, not {type(callback).__name__} {callback!r}.")
    state = held_state(state_id) or State(state_id)
    with state._locked():
        succeeded, result = run_user_callback(state, callback, list(args or []))
    return result


def connected_state_ids() -> list[str]:
    """Return the ids of states with a websocket whose heartbeat is recent."""
    cutoff = timezone.now() - datetime.timedelta(seconds=lc_settings.CONNECTION_TIMEOUT)
    ids = Connection.objects.filter(last_seen_at__gte=cutoff).values_list("state_id", flat=True).distinct()
    return sorted(set(ids))


def broadcast_callback(callback: Callable[..., Any], args: Iterable[Any] | None = None) -> dict[str, Any]:
    """Run ``callback(state, *args)`` on every state with an open connection, one at a time."""
    argument_list = list(args or [])
    return {state_id: invoke_callback(state_id, callback, argument_list) for state_id in connected_state_ids()}
