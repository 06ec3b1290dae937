"""``invoke_long_callback``: validate, write the record, then publish the task on commit."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from .conf import lc_settings
from .exceptions import PublishFailed, TooManyLongCallbacks
from .functions import function_path
from .lifecycle import finalize, publish_record
from .logs import get_logger
from .models import LongCallback, StoredState
from .serialization import to_json_list
from .state import State, as_state

logger = get_logger("invoke")

MIN_PERIOD_MS = 500

# Set by longcallbacks.testing.run_synchronously(): runs each task in the calling thread, at
# once, instead of publishing it when the transaction commits. Tests only.
synchronous_runner: Callable[[uuid.UUID, list[Any]], None] | None = None


@dataclass(frozen=True)
class LongCallbackHandle:
    """Handle returned by ``invoke_long_callback``: the record id, which is also the Celery task id."""

    id: uuid.UUID
    state_id: str

    @property
    def task_id(self) -> str:
        return str(self.id)

    def record(self) -> LongCallback:
        """Return the record as it is in the database now."""
        return LongCallback.objects.get(pk=self.id)

    def wait(self, timeout: float = 60.0, poll_interval: float = 0.05) -> LongCallback:
        """Block until the run has a final status and return its record (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.record()
            if record.is_final:
                return record
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Long callback {self.id} is still {record.status} after {timeout} s.")
            time.sleep(poll_interval)


def validate_period(period: Any, has_status_function: bool) -> int:
    if isinstance(period, bool) or not isinstance(period, int):
        raise ValueError(f"period must be whole milliseconds as an int, not {type(period).__name__} {period!r}.")
    if period < 0 or 0 < period < MIN_PERIOD_MS:
        raise ValueError(
            f"period={period} is invalid: use 0 for no periodic status, or {MIN_PERIOD_MS} milliseconds or more."
        )
    if period and not has_status_function:
        raise ValueError(f"period={period} needs a user_status_function to call; pass one or set period=0.")
    return period


def invoke_long_callback(
    state: State | HttpRequest,
    user_function: Callable[..., Any],
    user_function_args: Iterable[Any] | None = None,
    user_status_function: Callable[..., Any] | None = None,
    user_status_function_args: Iterable[Any] | None = None,
    period: int = 0,
) -> LongCallbackHandle:
    """Run ``user_function(*user_function_args)`` on a Celery worker and report to the state.

    ``user_status_function(state, status, *user_status_function_args, result)`` is called
    with True and the return value on success, False and None on an exception, and with
    0, 1, 2, ... every ``period`` milliseconds while the function runs. The record is written
    now and the task is published when the current transaction commits.

    Raises ValueError for a function a worker may not run or an invalid period, TypeError
    for arguments that are not JSON, and TooManyLongCallbacks when the state is at its limit.
    """
    target = as_state(state)
    period = validate_period(period, user_status_function is not None)
    path = function_path(user_function, "user_function")
    status_path = function_path(user_status_function, "user_status_function") if user_status_function else ""
    args = to_json_list(user_function_args, "user_function_args")
    status_args = to_json_list(user_status_function_args, "user_status_function_args")

    limit = lc_settings.MAX_RUNNING_PER_STATE
    with target._locked():
        active = LongCallback.objects.filter(state_id=target._state_id, status__in=LongCallback.ACTIVE_STATUSES).count()
        if active < limit:
            user_id = target._user_id
            if user_id is None:
                user_id = StoredState.objects.filter(pk=target._state_id).values_list("user_id", flat=True).first()
            # The record id is also the Celery task id, so it is known before the one insert.
            record_id = uuid.uuid4()
            record = LongCallback.objects.create(
                id=record_id,
                task_id=str(record_id),
                state_id=target._state_id,
                user_id=user_id,
                function=path,
                args=args,
                status_function=status_path,
                status_args=status_args,
                period=period,
            )
            publish_record(record)
            message = [str(record.id), path, args, status_path, status_args, period]
            if synchronous_runner is None:
                transaction.on_commit(lambda: publish_task(record.id, message))

    if active >= limit:
        _reject_over_limit(target, path, active, limit)

    logger.info("Long callback %s queued: %s on state %s.", record.id, path, target._state_id)
    if synchronous_runner is not None:
        synchronous_runner(record.id, message)
    return LongCallbackHandle(id=record.id, state_id=target._state_id)


def _reject_over_limit(state: State, path: str, active: int, limit: int) -> None:
    from .notifications import notify

    logger.warning(
        "State %s has %d long callbacks queued or running (limit %d); rejected %s.",
        state._state_id,
        active,
        limit,
        path,
    )
    notify(
        state,
        "warning",
        gettext("Too many tasks are running. Wait for one to finish, then try again."),
    )
    raise TooManyLongCallbacks(
        f"State {state._state_id} already has {active} long callbacks queued or running, the limit set by "
        f"LONGCALLBACKS['MAX_RUNNING_PER_STATE'] ({limit}). Wait for one to end or raise the setting."
    )


def publish_task(record_id: uuid.UUID, message: list[Any]) -> None:
    """Send the task to the broker; a failure ends the run as failed instead of losing it."""
    from .tasks import run_long_callback

    options: dict[str, Any] = {
        "task_id": str(record_id),
        "serializer": "json",
        "retry": True,
        "retry_policy": {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 2},
    }
    if lc_settings.QUEUE:
        options["queue"] = lc_settings.QUEUE
    if lc_settings.QUEUE_EXPIRY:
        options["expires"] = lc_settings.QUEUE_EXPIRY
    if lc_settings.TIME_LIMIT:
        options["time_limit"] = lc_settings.TIME_LIMIT
    try:
        run_long_callback.apply_async(args=tuple(message), **options)
        LongCallback.objects.filter(pk=record_id).update(
            published_at=timezone.now(), publish_count=F("publish_count") + 1
        )
    except Exception as exc:
        logger.error("Could not publish long callback %s to the broker: %s", record_id, exc, exc_info=True)
        error = PublishFailed(f"Could not send the task to the Celery broker: {exc}")
        finalize(record_id, LongCallback.Status.FAILED, exception=error)
