"""Declared state variables: every name a state may hold, with its default.

Declare them in a subclass of :class:`StateVariables`, usually in an app's ``callbacks.py``
(imported at startup), so that one file lists what the page can show::

    class ChatVariables(StateVariables):
        logs: str = ""
        result: str = "No response yet"
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from .serialization import check_json_value

# Names used by State itself, which a variable would hide.
RESERVED_NAMES = frozenset({"assign", "refresh", "snapshot"})


@dataclass(frozen=True)
class Variable:
    name: str
    default: Any
    annotation: Any
    owner: str


class VariableRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._variables: dict[str, Variable] = {}

    def declare(self, name: str, default: Any, annotation: Any = None, owner: str = "") -> None:
        if not name.isidentifier() or name.startswith("_"):
            raise ImproperlyConfigured(
                f"State variable name {name!r} (in {owner}) is invalid: use an identifier that "
                f"does not start with an underscore."
            )
        if name in RESERVED_NAMES:
            raise ImproperlyConfigured(
                f"State variable name {name!r} (in {owner}) is reserved by State; choose another name."
            )
        try:
            default = check_json_value(default, f"the default of state variable {name!r}")
        except TypeError as exc:
            raise ImproperlyConfigured(str(exc)) from exc

        with self._lock:
            existing = self._variables.get(name)
            # Redeclaring from the same class happens when a module is imported twice.
            if existing is not None and existing.owner != owner:
                raise ImproperlyConfigured(
                    f"State variable {name!r} is declared twice: in {existing.owner} and in {owner}. "
                    f"Rename one of them."
                )
            self._variables[name] = Variable(name, default, annotation, owner)

    def __contains__(self, name: object) -> bool:
        return name in self._variables

    def names(self) -> list[str]:
        return sorted(self._variables)

    def get(self, name: str) -> Variable:
        return self._variables[name]

    def default(self, name: str) -> Any:
        return copy.deepcopy(self._variables[name].default)

    def defaults(self) -> dict[str, Any]:
        return {name: self.default(name) for name in self.names()}

    def undeclare(self, owner: str) -> None:
        """Forget the variables of one class (used by tests that declare throwaway classes)."""
        with self._lock:
            for name in [n for n, v in self._variables.items() if v.owner == owner]:
                del self._variables[name]


registry = VariableRegistry()


class StateVariables:
    """Subclass this to declare state variables as class attributes with defaults."""

    __longcallbacks_owner__: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        owner = f"{cls.__module__}.{cls.__qualname__}"
        cls.__longcallbacks_owner__ = owner
        annotations = cls.__dict__.get("__annotations__", {})

        for name, value in list(cls.__dict__.items()):
            if name.startswith("_") or callable(value) or isinstance(value, (classmethod, staticmethod, property)):
                continue
            registry.declare(name, value, annotations.get(name), owner)
        for name in annotations:
            if name not in cls.__dict__ and not name.startswith("_"):
                raise ImproperlyConfigured(f"State variable {name!r} in {owner} has no default; give it one.")


def declared_variables() -> dict[str, Any]:
    """Return every declared variable with its default, sorted by name."""
    return registry.defaults()
