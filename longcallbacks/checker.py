"""The periodic checker that keeps records true when workers die or queues stall.

Celery beat runs :func:`check_long_callbacks` every CHECK_INTERVAL seconds. Every step is a
conditional update or goes through ``finalize``, which delivers a final status once, so two
beats started by mistake (or two checkers overlapping) cannot deliver anything twice.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import current_app, shared_task
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from .conf import lc_settings
from .exceptions import QueueExpired, WorkerLost
from .lifecycle import finalize
from .logs import get_logger
from .models import LongCallback
from .progress import terminate_overdue

logger = get_logger("checker")

CHECK_TASK_NAME = "longcallbacks.check_long_callbacks"
SCHEDULE_ENTRY = "longcallbacks-check"

Status = LongCallback.Status

# Records handled per check and kind, so one check stays short after a long outage.
CHECK_BATCH_SIZE = 500


def find_lost(now: datetime.datetime) -> list[Any]:
    cutoff = now - datetime.timedelta(seconds=lc_settings.LOST_AFTER)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    return list(
        LongCallback.objects.filter(stale, status=Status.RUNNING).values_list("pk", flat=True)[:CHECK_BATCH_SIZE]
    )


def declare_lost(now: datetime.datetime) -> int:
    """End running records whose worker stopped sending heartbeats; return how many."""
    count = 0
    for record_id in find_lost(now):
        error = WorkerLost(
            f"The worker running this task sent no heartbeat for {lc_settings.LOST_AFTER} s; "
            f"it was killed or its machine stopped."
        )
        if finalize(record_id, Status.LOST, exception=error):
            count += 1
    return count


def notify_waiting(now: datetime.datetime) -> int:
    """Notify users once that their work still waits for a worker; return how many were notified."""
    from .notifications import notify
    from .state import State

    cutoff = now - datetime.timedelta(seconds=lc_settings.WAITING_NOTICE_AFTER)
    waiting = LongCallback.objects.filter(status=Status.QUEUED, created_at__lt=cutoff, waiting_notified_at__isnull=True)
    count = 0
    for record_id, state_id in waiting.values_list("pk", "state_id")[:CHECK_BATCH_SIZE]:
        # The conditional update is the claim: of two checkers, only one gets a row back.
        claimed = LongCallback.objects.filter(pk=record_id, waiting_notified_at__isnull=True).update(
            waiting_notified_at=now
        )
        if not claimed:
            continue
        notify(
            State(state_id),
            "warning",
            gettext("Your task is waiting for a worker to start it."),
            notification_id=f"waiting-{record_id}",
        )
        logger.warning("Long callback %s on state %s is still waiting for a worker.", record_id, state_id)
        count += 1
    return count


def expire_queued(now: datetime.datetime) -> int:
    """Fail records that no worker started within QUEUE_EXPIRY seconds; return how many."""
    cutoff = now - datetime.timedelta(seconds=lc_settings.QUEUE_EXPIRY)
    count = 0
    expired = LongCallback.objects.filter(status=Status.QUEUED, created_at__lt=cutoff)
    for record_id in expired.values_list("pk", flat=True)[:CHECK_BATCH_SIZE]:
        error = QueueExpired(f"No worker started this task within {lc_settings.QUEUE_EXPIRY} s.")
        if finalize(record_id, Status.FAILED, exception=error):
            count += 1
    return count


def republish_queued(now: datetime.datetime) -> int:
    """Send again the messages of runs queued for REPUBLISH_AFTER seconds; return how many."""
    from .invoke import publish_task

    cutoff = now - datetime.timedelta(seconds=lc_settings.REPUBLISH_AFTER)
    stale = LongCallback.objects.filter(
        status=Status.QUEUED, published_at__lt=cutoff, publish_count__lt=lc_settings.MAX_PUBLISHES
    )
    count = 0
    for record in stale.only("pk", "published_at", "function", "args", "status_function", "status_args", "period")[
        :CHECK_BATCH_SIZE
    ]:
        # Claim by the old timestamp, so that of two checkers only one sends the message.
        claimed = LongCallback.objects.filter(pk=record.pk, published_at=record.published_at).update(published_at=now)
        if not claimed:
            continue
        logger.warning(
            "Long callback %s still queued after %s s; sending its task again.", record.pk, lc_settings.REPUBLISH_AFTER
        )
        message = [
            str(record.pk),
            record.function,
            record.args,
            record.status_function,
            record.status_args,
            record.period,
        ]
        publish_task(record.pk, message)
        count += 1
    return count


def check_long_callbacks() -> dict[str, int]:
    """Run every check once and return the counts, logged when anything happened."""
    now = timezone.now()
    counts = {
        "lost": declare_lost(now),
        "waiting": notify_waiting(now),
        "republished": republish_queued(now),
        "expired": expire_queued(now),
        "terminated": terminate_overdue(now),
    }
    if any(counts.values()):
        logger.info("Checker: %s.", ", ".join(f"{name} {value}" for name, value in counts.items()))
    return counts


@shared_task(name=CHECK_TASK_NAME, ignore_result=True)
def check_long_callbacks_task() -> dict[str, int]:
    return check_long_callbacks()


def beat_schedule_entry() -> dict[str, Any]:
    """Return the beat_schedule entry for the checker; it expires so a backlog cannot pile up."""
    interval = float(lc_settings.CHECK_INTERVAL)
    return {"task": CHECK_TASK_NAME, "schedule": interval, "options": {"expires": max(interval, 1.0)}}


def schedule_checker(app: Any = None) -> None:
    """Add the checker and pruning to the app's beat_schedule unless the project has them."""
    from .pruning import PRUNE_SCHEDULE_ENTRY, PRUNE_TASK_NAME, prune_schedule_entry

    app = app or current_app
    schedule = app.conf.beat_schedule
    tasks = {entry.get("task") for entry in schedule.values()}
    if CHECK_TASK_NAME not in tasks:
        schedule[SCHEDULE_ENTRY] = beat_schedule_entry()
    if PRUNE_TASK_NAME not in tasks:
        schedule[PRUNE_SCHEDULE_ENTRY] = prune_schedule_entry()


def is_checker_scheduled(app: Any = None) -> bool:
    app = app or current_app
    return any(entry.get("task") == CHECK_TASK_NAME for entry in app.conf.beat_schedule.values())
