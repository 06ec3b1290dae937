"""Sleeps of the example tasks, scaled by the DEMO_TIME_SCALE setting so tests run fast."""

from __future__ import annotations

import time

from django.conf import settings


def scaled(seconds: float) -> float:
    """Return ``seconds`` multiplied by DEMO_TIME_SCALE (1.0 unless the environment sets it)."""
    return seconds * float(getattr(settings, "DEMO_TIME_SCALE", 1.0))


def sleep_scaled(seconds: float) -> None:
    time.sleep(scaled(seconds))
