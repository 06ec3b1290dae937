"""Celery signal receivers that move long callback records through their life.

Connected once from ``AppConfig.ready()`` with a ``dispatch_uid``. Celery swallows exceptions
in receivers, so each receiver logs its own.
"""

from __future__ import annotations

from typing import Any

from billiard.exceptions import WorkerLostError
from celery import signals
from celery.exceptions import TimeLimitExceeded

from .conf import lc_settings
from .exceptions import QueueExpired, TaskTimeLimit
from .lifecycle import finalize, mark_running
from .logs import get_logger
from .models import LongCallback
from .tasks import TASK_NAME

logger = get_logger("signals")

Status = LongCallback.Status


def _is_ours(task: Any) -> bool:
    return getattr(task, "name", None) == TASK_NAME


def on_task_prerun(sender: Any = None, task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if not _is_ours(task) or task_id is None:
        return
    claimed = False
    try:
        claimed = mark_running(task_id, getattr(task.request, "hostname", None) or "")
    except Exception:
        logger.exception("Could not mark long callback %s as running.", task_id)
    # The task body runs the function only when this delivery moved the record from queued
    # to running, so a message sent twice (republished, redelivered) never runs it twice.
    task.request.longcallbacks_claimed = claimed


def on_task_success(sender: Any = None, result: Any = None, **kwargs: Any) -> None:
    if not _is_ours(sender):
        return
    task_id = sender.request.id
    try:
        finalize(task_id, Status.SUCCEEDED, result=result)
    except Exception:
        logger.exception("Could not finish long callback %s after success.", task_id)


def on_task_failure(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    if not _is_ours(sender) or task_id is None:
        return
    status = Status.FAILED
    if isinstance(exception, WorkerLostError):
        status = Status.LOST
    elif isinstance(exception, TimeLimitExceeded):
        seconds = exception.args[0] if exception.args else "?"
        exception = TaskTimeLimit(f"time limit: the function ran past its hard time limit of {seconds} s.")
    try:
        finalize(task_id, status, exception=exception, traceback_text=str(einfo) if einfo else "")
    except Exception:
        logger.exception("Could not finish long callback %s after failure.", task_id)


def on_task_revoked(sender: Any = None, request: Any = None, terminated: bool = False, **kwargs: Any) -> None:
    if not _is_ours(sender) or request is None:
        return
    task_id = getattr(request, "id", None)
    if task_id is None:
        return
    expired = bool(kwargs.get("expired"))
    try:
        if expired:
            error = QueueExpired(f"No worker started this task within {lc_settings.QUEUE_EXPIRY} s.")
            finalize(task_id, Status.FAILED, exception=error)
        else:
            finalize(task_id, Status.CANCELLED)
    except Exception:
        logger.exception("Could not finish long callback %s after revoke.", task_id)


def connect() -> None:
    signals.task_prerun.connect(on_task_prerun, dispatch_uid="longcallbacks.task_prerun")
    signals.task_success.connect(on_task_success, dispatch_uid="longcallbacks.task_success")
    signals.task_failure.connect(on_task_failure, dispatch_uid="longcallbacks.task_failure")
    signals.task_revoked.connect(on_task_revoked, dispatch_uid="longcallbacks.task_revoked")
