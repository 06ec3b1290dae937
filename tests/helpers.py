from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Return the first truthy value of ``probe()``, or fail with its last value after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met after {timeout} s; last value: {value!r}")
        time.sleep(interval)
        value = probe()
    return value
