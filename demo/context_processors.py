"""Template context shared by every demo page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def demo_mode(request: HttpRequest) -> dict[str, str]:
    """Add ``demo_mode``, "distributed" or "embedded", which the page header shows."""
    return {"demo_mode": getattr(settings, "DEMO_MODE", "distributed")}
