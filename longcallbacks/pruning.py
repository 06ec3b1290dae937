"""Deletes what is past its retention: finished records, old notifications, idle states.

Rows go in batches of PRUNE_BATCH_SIZE primary keys, so memory and lock time stay bounded
however many rows have piled up.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .conf import lc_settings
from .logs import get_logger
from .models import Connection, LongCallback, Notification, StoredState

logger = get_logger("pruning")

PRUNE_TASK_NAME = "longcallbacks.prune"
PRUNE_SCHEDULE_ENTRY = "longcallbacks-prune"
# Seconds between prune runs scheduled next to the checker.
PRUNE_INTERVAL = 60 * 60


def delete_in_batches(queryset: QuerySet[Any], batch_size: int) -> int:
    """Delete the rows of ``queryset`` ``batch_size`` primary keys at a time; return the count."""
    model = queryset.model
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        model.objects.filter(pk__in=ids).delete()
        total += len(ids)


def prune(now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete rows past their retention settings and return how many of each kind went."""
    now = now or timezone.now()
    batch = int(lc_settings.PRUNE_BATCH_SIZE)
    record_cutoff = now - datetime.timedelta(days=lc_settings.RECORD_RETENTION_DAYS)
    notification_cutoff = now - datetime.timedelta(seconds=lc_settings.NOTIFICATION_RETENTION)
    connection_cutoff = now - datetime.timedelta(seconds=10 * lc_settings.CONNECTION_TIMEOUT)
    state_cutoff = now - datetime.timedelta(days=lc_settings.STATE_RETENTION_DAYS)

    counts = {
        "records": delete_in_batches(
            LongCallback.objects.filter(status__in=LongCallback.FINAL_STATUSES, finished_at__lt=record_cutoff), batch
        ),
        "notifications": delete_in_batches(Notification.objects.filter(created_at__lt=notification_cutoff), batch),
        "connections": delete_in_batches(Connection.objects.filter(last_seen_at__lt=connection_cutoff), batch),
    }

    active_work = LongCallback.objects.filter(state=OuterRef("pk"), status__in=LongCallback.ACTIVE_STATUSES)
    open_connection = Connection.objects.filter(state=OuterRef("pk"), last_seen_at__gte=connection_cutoff)
    idle_states = StoredState.objects.filter(updated_at__lt=state_cutoff).filter(
        ~Exists(active_work), ~Exists(open_connection)
    )
    # Children first, in batches, so deleting a state never cascades over an unbounded set.
    counts["records"] += delete_in_batches(LongCallback.objects.filter(state__in=idle_states.values("pk")), batch)
    counts["notifications"] += delete_in_batches(Notification.objects.filter(state__in=idle_states.values("pk")), batch)
    counts["states"] = delete_in_batches(idle_states, batch)

    counts["files"] = prune_uploads(now, batch)

    if any(counts.values()):
        logger.info("Pruned %s.", ", ".join(f"{value} {name}" for name, value in counts.items()))
    return counts


def prune_uploads(now: datetime.datetime, limit: int) -> int:
    """Delete at most ``limit`` files older than UPLOAD_RETENTION from UPLOAD_DIRECTORIES."""
    from django.core.files.storage import default_storage

    cutoff = now - datetime.timedelta(seconds=lc_settings.UPLOAD_RETENTION)
    deleted = 0
    pending = [str(folder).strip("/") for folder in lc_settings.UPLOAD_DIRECTORIES]
    while pending and deleted < limit:
        folder = pending.pop()
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        pending.extend(f"{folder}/{name}" for name in folders)
        for name in files:
            path = f"{folder}/{name}"
            try:
                if default_storage.get_modified_time(path) < cutoff:
                    default_storage.delete(path)
                    deleted += 1
            except (FileNotFoundError, NotImplementedError) as exc:
                logger.warning("Could not prune upload %s: %s", path, exc)
            if deleted >= limit:
                break
    return deleted


@shared_task(name=PRUNE_TASK_NAME, ignore_result=True)
def prune_task() -> dict[str, int]:
    return prune()


def prune_schedule_entry() -> dict[str, Any]:
    return {"task": PRUNE_TASK_NAME, "schedule": float(PRUNE_INTERVAL), "options": {"expires": PRUNE_INTERVAL}}
