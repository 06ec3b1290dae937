"""Loggers of the app, with a rate limit for errors that repeat (a broker or Redis outage)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"longcallbacks.{name}")


class RepeatLimiter:
    """Log the first occurrence of a key, then at most one line per ``interval`` seconds.

    Each line after a quiet spell says how many repeats were suppressed.
    """

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def log(self, logger: logging.Logger, level: int, key: str, message: str, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            suppressed = self._suppressed.pop(key, 0)
            self._last[key] = now
        if suppressed:
            message = f"{message} (%d similar messages suppressed in the last %.0f s)"
            args = (*args, suppressed, self.interval)
        logger.log(level, message, *args, **kwargs)


repeat_limiter = RepeatLimiter()
