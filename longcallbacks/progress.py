"""Progress reports and cancellation of long callbacks.

``set_progress`` and ``is_cancelled`` are called inside a user function on a worker; they find
their record through Celery's current task, whose id is the record id.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from celery import current_app, current_task
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .conf import lc_settings
from .exceptions import LongCallbackCancelled
from .lifecycle import finalize, publish_record
from .logs import get_logger
from .models import LongCallback
from .state import State, as_state

logger = get_logger("progress")

Status = LongCallback.Status

_last_write = threading.local()


def current_record_id() -> str:
    """Return the record id of the long callback running in this thread."""
    from .tasks import TASK_NAME

    task = current_task
    if task is None or getattr(task, "name", None) != TASK_NAME or not task.request.id:
        raise RuntimeError(
            "set_progress() and is_cancelled() work only inside a user function started by invoke_long_callback()."
        )
    return str(task.request.id)


def is_cancelled() -> bool:
    """Return whether the running long callback was cancelled; check it between steps of work."""
    record_id = current_record_id()
    status = LongCallback.objects.filter(pk=record_id).values_list("status", flat=True).first()
    return status == Status.CANCELLED


def set_progress(current: int | float, total: int | float | None = None, message: str = "") -> None:
    """Report progress of the running long callback to the record and to the state's tabs.

    Writes are throttled to one per PROGRESS_INTERVAL seconds, except the first and the last
    (``current == total``). Raises LongCallbackCancelled once the run was cancelled.
    """
    for name, value in (("current", current), ("total", total)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"set_progress() {name}={value!r} is invalid; pass a number, 0 or more.")
    if total is not None and current > total:
        raise ValueError(f"set_progress() current={current!r} is more than total={total!r}.")

    record_id = current_record_id()
    now = time.monotonic()
    last = getattr(_last_write, "times", {}).get(record_id)
    is_last = total is not None and current == total
    if last is not None and not is_last and now - last < lc_settings.PROGRESS_INTERVAL:
        return
    _last_write.times = {record_id: now}

    with transaction.atomic():
        updated = LongCallback.objects.filter(pk=record_id, status=Status.RUNNING).update(
            progress_current=int(current),
            progress_total=int(total) if total is not None else None,
            progress_message=str(message)[:500],
            progress_updated_at=timezone.now(),
        )
        if updated:
            publish_record(LongCallback.objects.get(pk=record_id))
    if not updated:
        status = LongCallback.objects.filter(pk=record_id).values_list("status", flat=True).first()
        if status == Status.CANCELLED:
            raise LongCallbackCancelled(f"Long callback {record_id} was cancelled.")


def cancel_long_callback(state: State | HttpRequest, record_id: str | uuid.UUID) -> bool:
    """Cancel a long callback of this state; return False if it had already ended.

    The status function gets False at once and ``on_exception`` is not called. A queued run
    never starts. A running one is asked to stop through ``is_cancelled()`` and
    ``set_progress``, and its process is terminated after CANCEL_GRACE seconds on pools that
    support it.
    Raises LookupError when the state has no long callback with that id.
    """
    target = as_state(state)
    try:
        key = uuid.UUID(str(record_id))
    except ValueError:
        raise LookupError(f"{record_id!r} is not a long callback id.") from None
    record = LongCallback.objects.filter(pk=key, state_id=target._state_id).only("id", "status", "task_id").first()
    if record is None:
        # The same error whether the id does not exist or belongs to another state.
        raise LookupError(f"This state has no long callback with id {record_id}.")
    if record.is_final:
        return False

    ended = finalize(record.id, Status.CANCELLED)
    if ended:
        logger.info("Long callback %s on state %s cancelled.", record.id, target._state_id)
        revoke(record.task_id or str(record.id), terminate=False)
    return ended


def revoke(task_id: str, *, terminate: bool) -> None:
    """Ask workers to drop (or, with ``terminate``, kill) a task; a broker error is only logged."""
    try:
        current_app.control.revoke(task_id, terminate=terminate, signal="SIGKILL" if terminate else "SIGTERM")
    except Exception as exc:
        logger.warning("Could not send revoke for task %s: %s", task_id, exc)


def terminate_overdue(now: Any) -> int:
    """Kill the processes of cancelled runs still sending heartbeats after CANCEL_GRACE seconds."""
    import datetime

    grace = datetime.timedelta(seconds=lc_settings.CANCEL_GRACE)
    alive_since = now - datetime.timedelta(seconds=max(2 * lc_settings.HEARTBEAT_INTERVAL, 1))
    overdue = LongCallback.objects.filter(
        status=Status.CANCELLED, finished_at__lt=now - grace, heartbeat_at__gte=alive_since
    )
    count = 0
    for record_id, task_id in overdue.values_list("pk", "task_id")[:500]:
        logger.warning(
            "Long callback %s ignored its cancellation for %s s; terminating it.", record_id, lc_settings.CANCEL_GRACE
        )
        revoke(task_id or str(record_id), terminate=True)
        count += 1
    return count
