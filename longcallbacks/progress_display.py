"""What the ``{% long_callbacks %}`` tag shows of a run: progress, elapsed time and time left.

The browser client formats the same fields from ``long_callback`` frames; both use the texts
of :func:`run_texts`, so a page looks the same before and after its socket connects.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext

from .models import LongCallback


def run_texts() -> dict[str, str]:
    """Return the texts of the run list; ``%s`` stands for a duration such as 1:05."""
    return {
        "runs_label": gettext("Running tasks"),
        "no_runs": gettext("No tasks are running."),
        "progress_label": gettext("Progress"),
        "queued": gettext("Queued"),
        "running": gettext("Running"),
        "waiting": gettext("Waiting for a worker"),
        "elapsed": gettext("Elapsed %s"),
        "left": gettext("about %s left"),
        "estimating": gettext("estimating…"),
        "cancel": gettext("Cancel"),
        "cancelling": gettext("Cancelling…"),
    }


def format_duration(seconds: float) -> str:
    """Format whole seconds as m:ss, or h:mm:ss from one hour on."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def run_context(record: LongCallback, now: datetime.datetime, texts: dict[str, str]) -> dict[str, Any]:
    """Return the values that the run template shows for one queued or running record.

    The time left needs a rate from two progress reports, and the record stores only the
    latest one, so a server-rendered run always says "estimating…" until the client takes over.
    """
    current = record.progress_current or 0
    total = record.progress_total
    indeterminate = total is None or total <= 0
    percent = ""
    if total is not None and total > 0:
        percent = f"{min(100.0, 100.0 * current / total):.1f}"
    if record.started_at is None:
        elapsed = texts["waiting"]
    else:
        elapsed = texts["elapsed"] % format_duration((now - record.started_at).total_seconds())
    return {
        "id": str(record.id),
        "status": record.status,
        "status_text": texts["running"] if record.status == LongCallback.Status.RUNNING else texts["queued"],
        "function": record.function.rsplit(".", 1)[-1],
        "created_at": record.created_at.isoformat(),
        "started_at": record.started_at.isoformat() if record.started_at else "",
        "current": current,
        "total": total,
        "indeterminate": indeterminate,
        "percent": percent,
        "message": record.progress_message,
        "elapsed": elapsed,
        "left": "" if indeterminate else texts["estimating"],
    }
