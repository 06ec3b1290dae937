"""Strict JSON checks: everything that crosses a process boundary is plain JSON, never pickle."""

from __future__ import annotations

import math
from typing import Any

JSON_HINT = (
    "Use only str, int, float, bool, None, and lists and dicts with str keys "
    "(for example, pass datetime.isoformat() or str(uuid) instead)."
)


def find_non_json(value: Any, path: str = "") -> tuple[str, str] | None:
    """Return ``(path, type name)`` of the first value that is not plain JSON, or None."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return path, f"float {value!r}"
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_non_json(item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}[{key!r}]", f"dict key of type {type(key).__name__}"
            found = find_non_json(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    return path, type(value).__name__


def to_json_list(values: Any, what: str) -> list[Any]:
    """Check ``values`` (a list, a tuple or None) and return it as a list of plain JSON values.

    Raises TypeError naming the position and type of the first value that is not JSON.
    """
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise TypeError(
            f"{what} must be a list or tuple of arguments, not {type(values).__name__}. "
            f"Wrap a single argument in a list: [{values!r}]."
        )
    for position, item in enumerate(values):
        found = find_non_json(item)
        if found:
            inner_path, type_name = found
            raise TypeError(
                f"{what}[{position}]{inner_path} has type {type_name}, which is not JSON-serializable. {JSON_HINT}"
            )
    return [_as_plain(item) for item in values]


def _as_plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_as_plain(item) for item in value]
    if isinstance(value, list):
        return [_as_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_plain(item) for key, item in value.items()}
    return value


def check_json_value(value: Any, what: str) -> Any:
    """Return ``value`` as plain JSON or raise TypeError naming ``what``."""
    found = find_non_json(value)
    if found:
        inner_path, type_name = found
        raise TypeError(f"{what}{inner_path} has type {type_name}, which is not JSON-serializable. {JSON_HINT}")
    return _as_plain(value)
