"""Moves a long callback record through its life and calls its status function.

The record's status is changed under the state's lock with a conditional check, so the final
status is delivered once even when two processes report an outcome for the same run.
"""

from __future__ import annotations

import threading
import traceback as traceback_module
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import events, layer
from .exceptions import LongCallbackCancelled, RejectedFunction
from .execution import handle_exception, run_user_callback
from .functions import fit_arguments, resolve_function
from .logs import get_logger
from .models import LongCallback
from .state import State, held_state

logger = get_logger("lifecycle")

Status = LongCallback.Status


def record_payload(record: LongCallback) -> dict[str, Any]:
    """Return the run fields sent to tabs: no arguments and no result, which may be private."""
    return {
        "id": str(record.id),
        "function": record.function,
        "status": record.status,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "progress_current": record.progress_current,
        "progress_total": record.progress_total,
        "progress_message": record.progress_message,
        # The action that started the run, so buttons with disable_while_running find it.
        "action": record.action,
    }


def publish_record(record: LongCallback, state: State | None = None) -> None:
    """Push the record's new status on commit; with a locked ``state``, after its diffs."""
    payload = record_payload(record)
    state_id = record.state_id
    push = {"type": layer.LONG_CALLBACK_UPDATE, "state_id": state_id, "long_callback": payload}
    if state is not None:
        state._publish_after_changes(lambda: layer.publish(state_id, push))
    else:
        transaction.on_commit(lambda: layer.publish(state_id, push))


def _state_for(state_id: str) -> State:
    return held_state(state_id) or State(state_id)


def mark_running(record_id: str | uuid.UUID, worker: str) -> bool:
    """Move a queued record to running; return False if it was not queued."""
    with transaction.atomic():
        now = timezone.now()
        updated = LongCallback.objects.filter(pk=record_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker
        )
        if updated:
            publish_record(LongCallback.objects.get(pk=record_id))
    if updated:
        logger.info("Long callback %s started on worker %s.", record_id, worker)
    else:
        logger.warning("Long callback %s reached worker %s but was not queued.", record_id, worker)
    return bool(updated)


def function_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def finalize(
    record_id: str | uuid.UUID,
    status: str,
    *,
    result: Any = None,
    exception: BaseException | None = None,
    traceback_text: str = "",
) -> bool:
    """Record the final status of a run and deliver it once; return False if it was already final.

    Order: the record is updated and the status function called in one transaction, then
    ``on_exception`` gets the exception of a failed or lost run (not of a cancelled one).
    """
    state_id = LongCallback.objects.filter(pk=record_id).values_list("state_id", flat=True).first()
    if state_id is None:
        logger.warning("Long callback %s has no record; its %s outcome is dropped.", record_id, status)
        return False

    state = _state_for(state_id)
    succeeded = status == Status.SUCCEEDED
    with state._locked():
        record = LongCallback.objects.select_for_update().get(pk=record_id)
        if record.is_final:
            if record.status != status:
                _keep_late_outcome(record, status, result, exception)
            return False

        record.status = status
        record.finished_at = timezone.now()
        record.result = result if succeeded else None
        if exception is not None:
            record.error_type = f"{type(exception).__module__}.{type(exception).__qualname__}"
            record.error_message = str(exception)[:10_000]
            record.traceback = traceback_text or "".join(
                traceback_module.format_exception(type(exception), exception, exception.__traceback__)
            )
        record.save(update_fields=["status", "finished_at", "result", "error_type", "error_message", "traceback"])
        # After the status function's diffs, so a tab shows the result before the run ends.
        publish_record(record, state)

        if record.status_function:
            _call_status_function(state, record, [succeeded, *record.status_args, record.result])
        if status == Status.LOST:
            _notify_interrupted(state, record)

    logger.info("Long callback %s on state %s ended %s.", record_id, state_id, status)
    if status in (Status.FAILED, Status.LOST):
        error = exception or RuntimeError(f"Long callback {record_id} ended {status}.")
        handle_exception(state, function_name(record.function), error)
    return True


def _keep_late_outcome(record: LongCallback, status: str, result: Any, exception: BaseException | None) -> None:
    """Store an outcome that arrived after the final one, for the admin; it is never delivered."""
    if isinstance(exception, LongCallbackCancelled):
        return
    logger.warning(
        "Long callback %s is already %s; keeping the late outcome %s for the record only.",
        record.id,
        record.status,
        status,
    )
    late: dict[str, Any] = {"status": status, "reported_at": timezone.now().isoformat()}
    if status == Status.SUCCEEDED:
        late["result"] = result
    if exception is not None:
        late["error_type"] = type(exception).__qualname__
        late["error_message"] = str(exception)[:2000]
    record.late_outcome = late
    record.save(update_fields=["late_outcome"])


def _notify_interrupted(state: State, record: LongCallback) -> None:
    from .notifications import notify

    notify(
        state,
        "error",
        gettext("A task was interrupted because its worker stopped. Start it again."),
        notification_id=f"lost-{record.id}",
    )


def deliver_periodic(record_id: str | uuid.UUID, count: int) -> bool:
    """Call the status function with ``count`` while the run is still running.

    Returns False once the run is no longer running, so the caller stops ticking and no
    periodic status can follow the final one.
    """
    state_id = LongCallback.objects.filter(pk=record_id).values_list("state_id", flat=True).first()
    if state_id is None:
        return False

    state = _state_for(state_id)
    with state._locked():
        record = LongCallback.objects.select_for_update().get(pk=record_id)
        if record.status != Status.RUNNING:
            return False
        if record.last_periodic_count is not None and count <= record.last_periodic_count:
            return True
        record.last_periodic_count = count
        record.save(update_fields=["last_periodic_count"])
        _call_status_function(state, record, [count, *record.status_args, None])
    return True


_reporting = threading.local()


def current_long_callback() -> LongCallback | None:
    """Return the record whose status is being reported, inside a status function; else None.

    Taipy's status argument is False for a failure and a cancellation alike. The record's
    ``status`` (``failed``, ``cancelled``, ``lost``) and ``error_message`` tell them apart.
    """
    record: LongCallback | None = getattr(_reporting, "record", None)
    return record


def _call_status_function(state: State, record: LongCallback, values: list[Any]) -> None:
    try:
        status_function = resolve_function(record.status_function, "status function")
    except RejectedFunction as exc:
        logger.error("Long callback %s: %s", record.id, exc)
        return
    _reporting.record = record
    try:
        run_user_callback(
            state,
            status_function,
            fit_arguments(status_function, values),
            function_name=function_name(record.status_function),
        )
    finally:
        _reporting.record = None
    events.status_delivered.send(
        sender=LongCallback,
        record_id=record.id,
        state_id=record.state_id,
        function=record.status_function,
        status=values[0],
        result=values[-1],
    )
