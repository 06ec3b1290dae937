"""The Celery task that runs user functions on a worker, and the periodic status ticker."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import shared_task
from celery.exceptions import Ignore
from django.db import DatabaseError, connections
from django.utils import timezone

from .conf import lc_settings
from .exceptions import RejectedFunction, ResultNotJSON
from .functions import resolve_function
from .lifecycle import deliver_periodic
from .logs import get_logger, repeat_limiter
from .models import LongCallback
from .serialization import find_non_json

logger = get_logger("worker")

TASK_NAME = "longcallbacks.run_long_callback"


class RecordThread(threading.Thread):
    """A daemon thread that works for one running record until ``stop()``."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(name=f"longcallbacks-{kind}-{record_id}", daemon=True)
        self.record_id = record_id
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Stop and wait for the work in progress, so none of it follows the caller's next step."""
        self._stop_event.set()
        if self.is_alive():
            self.join()


class PeriodicStatus(RecordThread):
    """Calls the status function with 0 at once, then n at ``start + n * period``.

    Ticks are scheduled from the start time, so a slow status function does not make the
    period drift. Ticks it overran are skipped rather than sent late in a burst.
    """

    def __init__(self, record_id: str, period_ms: int) -> None:
        super().__init__("period", record_id)
        self.period = period_ms / 1000

    def run(self) -> None:
        start = time.monotonic()
        count = 0
        try:
            while not self._stop_event.is_set():
                if not deliver_periodic(self.record_id, count):
                    return
                elapsed = time.monotonic() - start
                next_count = max(count + 1, int(elapsed // self.period) + 1)
                if next_count > count + 1:
                    logger.warning(
                        "Long callback %s: the status function overran its period; skipped counts %d to %d.",
                        self.record_id,
                        count + 1,
                        next_count - 1,
                    )
                count = next_count
                if self._stop_event.wait(start + count * self.period - time.monotonic()):
                    return
        except Exception:
            logger.exception("Long callback %s: periodic status stopped by an error.", self.record_id)
        finally:
            # This thread opened its own database connections; they would leak otherwise.
            connections.close_all()


class Heartbeat(RecordThread):
    """Writes ``heartbeat_at`` of a running record every HEARTBEAT_INTERVAL seconds.

    The checker declares a run lost when its heartbeat is older than LOST_AFTER, which is
    how a worker killed as a whole (no signal fires then) is detected.
    """

    def __init__(self, record_id: str, interval: float) -> None:
        super().__init__("heartbeat", record_id)
        self.interval = interval

    def run(self) -> None:
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    # A cancelled run keeps its heartbeat while it still runs, so the checker
                    # can tell when to terminate it.
                    LongCallback.objects.filter(
                        pk=self.record_id, status__in=[LongCallback.Status.RUNNING, LongCallback.Status.CANCELLED]
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError as exc:
                    repeat_limiter.log(
                        logger,
                        logging.WARNING,
                        f"heartbeat:{type(exc).__name__}",
                        "Long callback %s: heartbeat failed, will retry: %s",
                        self.record_id,
                        exc,
                    )
        finally:
            connections.close_all()


@shared_task(name=TASK_NAME, bind=True)
def run_long_callback(
    self: Any,
    record_id: str,
    function_path: str,
    args: list[Any],
    status_function_path: str,
    status_args: list[Any],
    period: int,
) -> Any:
    """Run one user function. Its outcome reaches the record through Celery's signals."""
    expected = LongCallback.objects.filter(pk=record_id).values("function", "status_function", "status").first()
    if (
        expected is None
        or expected["function"] != function_path
        or expected["status_function"] != (status_function_path or "")
    ):
        logger.error(
            "Rejected task %s for %r: it matches no long callback record, so invoke_long_callback did not send it.",
            record_id,
            function_path,
        )
        raise RejectedFunction(f"Task {record_id} for {function_path!r} does not match a long callback record.")
    try:
        function = resolve_function(function_path, "user function")
        if status_function_path:
            resolve_function(status_function_path, "status function")
    except RejectedFunction as exc:
        logger.error("Long callback %s rejected on the worker: %s", record_id, exc)
        raise
    if not isinstance(args, list):
        raise RejectedFunction(f"Task {record_id} has arguments of type {type(args).__name__}; expected a list.")

    if not getattr(self.request, "longcallbacks_claimed", False):
        # Expired or cancelled while queued, or a second copy of the message: never run twice.
        logger.warning(
            "Long callback %s is %s and was not claimed by this delivery; not running it.",
            record_id,
            expected["status"],
        )
        raise Ignore()

    heartbeat = Heartbeat(record_id, lc_settings.HEARTBEAT_INTERVAL)
    heartbeat.start()
    ticker = PeriodicStatus(record_id, period) if period and status_function_path else None
    if ticker is not None:
        ticker.start()
    try:
        result = function(*args)
    finally:
        if ticker is not None:
            # Waits for a status call in progress, so no periodic status follows the final one.
            ticker.stop()
        heartbeat.stop()

    found = find_non_json(result)
    if found:
        path, type_name = found
        raise ResultNotJSON(
            f"{function_path} returned a value whose part result{path} has type {type_name}, which is not "
            f"JSON-serializable. Return only JSON types (str, int, float, bool, None, list, dict with str keys)."
        )
    return result


# Imported for their side effect: registering the checker and pruning tasks wherever Celery
# autodiscovers ``longcallbacks.tasks``.
from .checker import check_long_callbacks_task  # noqa: E402, F401
from .pruning import prune_task  # noqa: E402, F401
