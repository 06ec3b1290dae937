"""Rules for functions that travel to a worker, and the checks of their dotted paths.

Functions travel as dotted paths in JSON messages. Anything that arrives on the queue is
checked again on the worker, so a forged message cannot make it import arbitrary code.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

from .conf import lc_settings
from .exceptions import RejectedFunction

_DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")

# Installed third-party and framework apps whose functions are never run by path, unless a
# project lists the module in ALLOWED_MODULES itself.
_FRAMEWORK_PREFIXES = ("django", "daphne", "channels", "celery", "django_celery_results", "django_celery_beat")

_FIX = (
    "Define it as a top-level function in a module of an app in INSTALLED_APPS, or add its "
    "module to LONGCALLBACKS['ALLOWED_MODULES']."
)


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def is_module_allowed(module: str) -> bool:
    """Return whether functions of ``module`` may run by dotted path."""
    if any(_matches(module, prefix) for prefix in lc_settings.ALLOWED_MODULES):
        return True
    if any(_matches(module, prefix) for prefix in _FRAMEWORK_PREFIXES):
        return False
    return any(_matches(module, config.name) for config in apps.get_app_configs())


def function_path(function: Any, role: str = "user_function") -> str:
    """Return the dotted path of ``function`` after checking that a worker may import it.

    Raises RejectedFunction (a ValueError) that names the function and what to do.
    """
    if not inspect.isfunction(function):
        raise RejectedFunction(f"{role} must be a plain function, not {type(function).__name__} {function!r}. {_FIX}")
    qualname = function.__qualname__
    name = f"{function.__module__}.{qualname}"
    if function.__name__ == "<lambda>":
        raise RejectedFunction(f"{role} {name} is a lambda, which a worker cannot import. {_FIX}")
    if "<locals>" in qualname:
        raise RejectedFunction(
            f"{role} {name} is a nested function or closure, which a worker cannot import. "
            f"Pass the values it captures as arguments instead. {_FIX}"
        )
    if "." in qualname:
        raise RejectedFunction(f"{role} {name} is defined inside a class. {_FIX}")
    if function.__module__ in ("__main__", "builtins"):
        raise RejectedFunction(f"{role} {name} is defined in {function.__module__}. {_FIX}")
    if not is_module_allowed(function.__module__):
        raise RejectedFunction(f"{role} {name} is in module {function.__module__!r}, which is not allowed. {_FIX}")

    try:
        resolved = import_string(name)
    except ImportError as exc:
        raise RejectedFunction(f"{role} {name} cannot be imported by that path ({exc}). {_FIX}") from exc
    if resolved is not function:
        raise RejectedFunction(
            f"{role} {name} resolves to another object when imported by path; a decorator may "
            f"have replaced it. Pass the object the module exposes under that name."
        )
    return name


def resolve_function(path: str, role: str = "function") -> Callable[..., Any]:
    """Import a function from a dotted path that arrived in a message, checking it again."""
    if not isinstance(path, str) or not _DOTTED_PATH.match(path):
        raise RejectedFunction(f"Rejected {role} path {path!r}: it is not a dotted Python path.")
    module = path.rsplit(".", 1)[0]
    if not is_module_allowed(module):
        raise RejectedFunction(f"Rejected {role} path {path!r}: module {module!r} is not allowed. {_FIX}")

    try:
        function = import_string(path)
    except ImportError as exc:
        raise RejectedFunction(f"Rejected {role} path {path!r}: it cannot be imported ({exc}).") from exc
    if not inspect.isfunction(function):
        raise RejectedFunction(f"Rejected {role} path {path!r}: it names a {type(function).__name__}, not a function.")
    if f"{function.__module__}.{function.__qualname__}" != path:
        # A name re-exported from another module (``from os import system``) must not pass.
        raise RejectedFunction(
            f"Rejected {role} path {path!r}: it names {function.__module__}.{function.__qualname__}, "
            f"which is defined elsewhere."
        )
    return function


def positional_capacity(function: Callable[..., Any]) -> int | None:
    """Return how many positional parameters ``function`` takes, or None for ``*args``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def fit_arguments(function: Callable[..., Any], values: Sequence[Any], leading: int = 1) -> list[Any]:
    """Cut or pad ``values`` with None to the positional parameters after the first ``leading``.

    This is how Taipy calls status functions: ``f(state, status)`` never gets the result,
    and ``f(state, status, a, b, result)`` gets every value.
    """
    capacity = positional_capacity(function)
    if capacity is None:
        return list(values)
    wanted = max(capacity - leading, 0)
    fitted = list(values[:wanted])
    fitted.extend([None] * (wanted - len(fitted)))
    return fitted
