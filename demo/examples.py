"""The examples of Taipy's long-callback guide, ported: actions, user functions, status functions.

User functions run on a Celery worker and take and return JSON only. Status functions and
callbacks run with the user's state. The pages show the source of these functions, so
each one is written to be read as an example.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from django.db import transaction

from longcallbacks import (
    State,
    action,
    current_long_callback,
    get_state_id,
    invoke_callback,
    invoke_long_callback,
    notify,
    set_progress,
)
from longcallbacks.models import LongCallback

from .charts import pi_chart_svg
from .pi import approximate_pi_points, error_digits
from .timing import sleep_scaled

# /examples/basic/ ------------------------------------------------------------------


def heavy_function(seconds: float) -> str:
    """Stand in for slow work: sleep, then return a short report."""
    sleep_scaled(seconds)
    return f"Slept {seconds} s"


@action("basic_start")
def basic_start(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    invoke_long_callback(state, heavy_function, [10])


# /examples/status/ -----------------------------------------------------------------


def failing_heavy_function(seconds: float) -> None:
    """Work a little, then fail, so the status function receives False."""
    sleep_scaled(seconds)
    raise RuntimeError("The heavy function failed on purpose.")


def heavy_status(state: State, status: bool | int) -> None:
    # A periodic count is an int, and counts above 0 are truthy, so test for bool.
    if isinstance(status, bool):
        if status:
            state.status_outcome = "The last task completed successfully."
            notify(state, "success", "Task completed successfully!")
        else:
            state.status_outcome = "The last task failed."
            notify(state, "error", "Task failed.")


@action("status_start")
def status_start(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    state.status_outcome = "A task is running."
    invoke_long_callback(state, heavy_function, [10], heavy_status)


@action("status_start_failing")
def status_start_failing(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    state.status_outcome = "A task is running."
    invoke_long_callback(state, failing_heavy_function, [3], heavy_status)


# /examples/periodic/ ---------------------------------------------------------------


def heavy_function_in_steps(steps: int, seconds_per_step: float) -> int:
    """Sleep ``steps`` times, so the periodic status has something to report on."""
    for _ in range(steps):
        sleep_scaled(seconds_per_step)
    return steps


def periodic_status(state: State, status: bool | int) -> None:
    if isinstance(status, bool):
        if status:
            state.periodic_progress = "Finished."
            notify(state, "success", "Task completed successfully!")
        else:
            state.periodic_progress = "Failed."
            notify(state, "error", "Task failed.")
    else:
        # The period is 1000 ms, so the count is the number of seconds since the start.
        state.periodic_progress = f"Running for {status} s."
        notify(state, "info", f"Task is still running... {status}s elapsed")


@action("periodic_start")
def periodic_start(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    state.periodic_progress = "Starting."
    invoke_long_callback(state, heavy_function_in_steps, [10, 1], periodic_status, period=1000)


# /examples/trigger-update/ ---------------------------------------------------------


def add_log_line(state: State, line: str) -> None:
    state.logs = f"{state.logs}{line}\n"


def respond(state_id: str) -> str:
    """Report each stage to the page through invoke_callback while the answer is prepared."""
    for stage in ("Searching documents", "Responding to user", "Fact Checking"):
        invoke_callback(state_id, add_log_line, [stage])
        sleep_scaled(5)
    return "Here is the answer"


def respond_status(state: State, status: bool | int, result: str | None) -> None:
    if isinstance(status, bool):
        with state:
            state.logs = ""
            state.result = result if status else "The response failed."


@action("respond")
def respond_action(state: State, payload: dict[str, Any]) -> None:
    with state:
        state.logs = ""
        state.result = "No response yet"
    invoke_long_callback(state, respond, [get_state_id(state)], respond_status)


# /examples/manual-thread/ ----------------------------------------------------------


def notify_completed(state: State) -> None:
    notify(state, "success", "Heavy task completed!")


def heavy_work_in_thread(state_id: str, seconds: float) -> None:
    sleep_scaled(seconds)
    invoke_callback(state_id, notify_completed)


@action("manual_thread_start")
def manual_thread_start(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    thread = threading.Thread(
        target=heavy_work_in_thread,
        args=(get_state_id(state), 10),
        name="demo-heavy-task",
        daemon=True,
    )
    # The action runs in a transaction. Starting after the commit means the thread's own
    # invoke_callback never waits for this action's lock on the state.
    transaction.on_commit(thread.start)


# /examples/result/ -----------------------------------------------------------------


def sum_of_squares(count: int, seconds: float) -> int:
    """Return 1² + 2² + ... + count², after a pause that makes it a long task."""
    sleep_scaled(seconds)
    return sum(number * number for number in range(1, count + 1))


def store_result(state: State, status: bool | int, result: int | None) -> None:
    if status is True:
        state.heavy_result = f"{result:,}"
    elif status is False:
        state.heavy_result = "The task failed."


@action("result_start")
def result_start(state: State, payload: dict[str, Any]) -> None:
    notify(state, "info", "Heavy task started...")
    state.heavy_result = "Computing..."
    invoke_long_callback(state, sum_of_squares, [1_000_000, 3], store_result)


# /examples/pi/ ---------------------------------------------------------------------

PI_MIN_ITERATIONS = 1
PI_MAX_ITERATIONS = 300_000_000
PI_DEFAULT_ITERATIONS = 30_000_000
# Points of the chart, spaced on a log scale of the iteration count.
PI_CHART_POINTS = 60


def approximate_pi(iterations: int) -> dict[str, Any]:
    """Sum the Leibniz series; the result carries the points of the convergence chart."""
    started = time.monotonic()

    def report(done: int) -> None:
        set_progress(done, iterations, f"{done:,} of {iterations:,} terms")

    value, points = approximate_pi_points(iterations, PI_CHART_POINTS, report)
    return {
        "value": value,
        "points": points,
        "seconds": round(time.monotonic() - started, 2),
    }


def pi_status(state: State, status: bool | int, iterations: int, result: dict[str, Any] | None) -> None:
    if not isinstance(status, bool):
        state.pi_elapsed = f"{status} s elapsed"
        return
    if not status or result is None:
        record = current_long_callback()
        if record is not None and record.status == LongCallback.Status.CANCELLED:
            state.pi_elapsed = "Cancelled"
            notify(state, "info", "Task cancelled.")
            return
        state.pi_elapsed = "Failed"
        notify(state, "error", "Task failed.")
        return

    value = result["value"]
    with state:
        state.pi_elapsed = f"Finished in {result['seconds']} s"
        state.pi_value = f"{value:.12f} after {iterations:,} iterations ({error_digits(value)} correct decimals)"
        state.pi_chart = pi_chart_svg(result["points"])
    notify(state, "success", "Task completed successfully!")


def parse_iterations(raw: object) -> int | None:
    """Return the iteration count from a form value, or None when it is not a whole number in range."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().replace(",", "").replace("_", "")
    if not text.isdigit():
        return None
    iterations = int(text)
    if not PI_MIN_ITERATIONS <= iterations <= PI_MAX_ITERATIONS:
        return None
    return iterations


@action("pi_start")
def pi_start(state: State, payload: dict[str, Any]) -> None:
    iterations = parse_iterations(payload.get("iterations"))
    if iterations is None:
        notify(
            state,
            "error",
            f"Enter a whole number of iterations from {PI_MIN_ITERATIONS:,} to {PI_MAX_ITERATIONS:,}.",
        )
        return

    notify(state, "info", "Heavy task started...")
    with state:
        state.pi_elapsed = "0 s elapsed"
        state.pi_value = "Computing..."
        state.pi_chart = ""
    invoke_long_callback(state, approximate_pi, [iterations], pi_status, [iterations], period=1000)


def pi_true_value() -> str:
    return f"{math.pi:.12f}"
