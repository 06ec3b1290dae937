"""Actions, Taipy's ``on_action``: named functions that a page's buttons may run on the state.

A browser can only name an action that the server registered with :func:`action`, through the
websocket or the plain POST view. Each action runs once, in the process that received the
request, with the state locked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, overload

from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import pre_save
from django.utils.translation import gettext

from .exceptions import LongCallbackError, StateNotFound, TooManyLongCallbacks
from .logs import get_logger
from .models import LongCallback
from .state import State

logger = get_logger("actions")

ActionFunction = Callable[[State, dict[str, Any]], Any]

# Letters, digits, "_", "-" and "." so that a name fits in an HTML attribute and a log line as is.
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")

# Form fields that carry the request itself and never reach an action's payload.
RESERVED_FIELDS = frozenset({"action", "next", "csrfmiddlewaretoken"})

MAX_PAYLOAD_FIELDS = 100

# The name of the action running in this thread, stored on each long callback it starts.
_running_action: ContextVar[str | None] = ContextVar("longcallbacks_running_action", default=None)


class UnknownAction(LongCallbackError, LookupError):
    """No action is registered under the requested name."""


class InvalidPayload(LongCallbackError, ValueError):
    """An action payload that is not a dict of str keys to str or list-of-str values."""


@dataclass(frozen=True)
class RegisteredAction:
    name: str
    function: ActionFunction
    owner: str


class ActionRegistry:
    """Action names mapped to functions, filled at import time by :func:`action`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, RegisteredAction] = {}

    def register(self, name: str, function: ActionFunction) -> None:
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ImproperlyConfigured(
                f"Action name {name!r} is invalid: use up to 100 letters, digits, '_', '-' or '.', "
                f"starting with a letter or '_'."
            )
        if not callable(function):
            raise ImproperlyConfigured(f"Action {name!r} must be a function, not {type(function).__name__}.")
        owner = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"

        with self._lock:
            existing = self._actions.get(name)
            # The same function registered again happens when its module is imported twice.
            if existing is not None and existing.owner != owner:
                raise ImproperlyConfigured(
                    f"Action {name!r} is registered twice: by {existing.owner} and by {owner}. Rename one of them."
                )
            self._actions[name] = RegisteredAction(name, function, owner)

    def unregister(self, name: str) -> None:
        """Forget one action (used by tests that register throwaway actions)."""
        with self._lock:
            self._actions.pop(name, None)

    def get(self, name: object) -> RegisteredAction:
        if isinstance(name, str):
            found = self._actions.get(name)
            if found is not None:
                return found
        raise UnknownAction(f"No action named {name!r} is registered. Register it with @action in a callbacks module.")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._actions

    def names(self) -> list[str]:
        return sorted(self._actions)


registry = ActionRegistry()


@overload
def action(name_or_function: ActionFunction) -> ActionFunction: ...


@overload
def action(name_or_function: str | None = None) -> Callable[[ActionFunction], ActionFunction]: ...


def action(
    name_or_function: str | ActionFunction | None = None,
) -> ActionFunction | Callable[[ActionFunction], ActionFunction]:
    """Register ``fn(state, payload)`` as an action, named by the function or by the given name.

    Use it bare (``@action``) or with a name (``@action("start_job")``).
    """
    if callable(name_or_function):
        function = name_or_function
        registry.register(function.__name__, function)
        return function

    def decorator(function: ActionFunction) -> ActionFunction:
        name = name_or_function if name_or_function is not None else function.__name__
        registry.register(name, function)
        return function

    return decorator


def clean_payload(payload: object) -> dict[str, str | list[str]]:
    """Return the payload as a new dict, or raise InvalidPayload saying which field is wrong."""
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise InvalidPayload(f"The payload must be an object of form fields, not {type(payload).__name__}.")
    if len(payload) > MAX_PAYLOAD_FIELDS:
        raise InvalidPayload(f"The payload has {len(payload)} fields; at most {MAX_PAYLOAD_FIELDS} are accepted.")

    cleaned: dict[str, str | list[str]] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            raise InvalidPayload(f"Payload field name {key!r} is not a string.")
        if isinstance(value, str):
            cleaned[key] = value
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            cleaned[key] = list(value)
        else:
            raise InvalidPayload(
                f"Payload field {key!r} has a value of type {type(value).__name__}; use a string or a list of strings."
            )
    return cleaned


def payload_from_querydict(data: Any) -> dict[str, str | list[str]]:
    """Build a payload from POST data: one value gives a str, repeated fields give a list."""
    payload: dict[str, str | list[str]] = {}
    for key in data:
        if key in RESERVED_FIELDS:
            continue
        values = data.getlist(key)
        payload[key] = values[0] if len(values) == 1 else list(values)
    return payload


@dataclass(frozen=True)
class ActionOutcome:
    """Outcome of an action run. ``error_code`` is one of the socket protocol's error codes."""

    ok: bool
    error_code: str = ""
    message: str = ""


def run_action(state: State, name: str, payload: object) -> ActionOutcome:
    """Run a registered action once on ``state`` and return how it ended.

    Raises UnknownAction and InvalidPayload before anything runs. An exception inside the
    action rolls back its changes and goes to ``ON_EXCEPTION`` (or the log), like a status
    function's. TooManyLongCallbacks is reported to the user with a warning notification.
    """
    from .execution import handle_exception
    from .notifications import notify

    registered = registry.get(name)
    cleaned = clean_payload(payload)

    token = _running_action.set(name)
    try:
        with state._locked():
            registered.function(state, cleaned)
    except TooManyLongCallbacks as exc:
        # The warning that invoke_long_callback stored was rolled back with the action's
        # changes, so it is sent again here, outside the failed transaction.
        logger.warning("Action %s on state %s: %s", name, state._state_id, exc)
        notify(state, "warning", gettext("Too many tasks are running. Wait for one to finish, then try again."))
        return ActionOutcome(False, "too_many_long_callbacks", str(exc))
    except StateNotFound:
        raise
    except Exception as exc:
        handle_exception(state, name, exc)
        return ActionOutcome(False, "action_failed", f"Action {name!r} raised {type(exc).__name__}.")
    finally:
        _running_action.reset(token)

    logger.debug("Action %s ran on state %s.", name, state._state_id)
    return ActionOutcome(True)


def tag_started_run(sender: type[LongCallback], instance: LongCallback, **kwargs: Any) -> None:
    """Store the running action's name on a new long callback record.

    ``invoke_long_callback`` does not depend on actions, so the tag is added as the record is
    first saved. Runs started outside an action, or by threads an action starts, stay untagged.
    """
    if instance._state.adding and instance.action is None:
        instance.action = _running_action.get()


def connect_signals() -> None:
    """Connect :func:`tag_started_run`; called once from ``AppConfig.ready()``."""
    pre_save.connect(tag_started_run, sender=LongCallback, dispatch_uid="longcallbacks.tag_started_run")
