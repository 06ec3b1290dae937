"""User code for the tests: state variables, user functions and status functions.

Found by autodiscovery (``callbacks`` modules of installed apps) in the test process and in the
worker processes alike. Status functions record what they receive in state variables, so the
tests observe real deliveries through the database.
"""

from __future__ import annotations

import os
import time
from typing import Any

from longcallbacks import (
    State,
    StateVariables,
    action,
    invoke_callback,
    invoke_long_callback,
    is_cancelled,
    notify,
    set_progress,
)


class SuiteVariables(StateVariables):
    events: list = []  # type: ignore[type-arg]
    items: list = []  # type: ignore[type-arg]
    errors: list = []  # type: ignore[type-arg]
    counter: int = 0
    message: str = "initial"


def record_exception(state: State, function_name: str, exception: BaseException) -> None:
    state.errors = [*state.errors, [function_name, type(exception).__name__, str(exception)]]


# User functions (run on workers).


def add(a: int, b: int) -> int:
    return a + b


def do_nothing() -> None:
    return None


def fail(message: str) -> None:
    raise ValueError(message)


def sleep_then_return(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


def return_not_json() -> Any:
    return {"when": object()}


def worker_pid() -> int:
    return os.getpid()


def append_through_callback(state_id: str, value: int) -> int:
    invoke_callback(state_id, append_item, [value])
    return os.getpid()


def store_pid_then_sleep(state_id: str, seconds: float) -> str:
    """Let the test find (and kill) the process running this function."""
    invoke_callback(state_id, set_message, [f"pid {os.getpid()}"])
    time.sleep(seconds)
    return "finished"


def count_with_progress(steps: int, pause: float) -> int:
    for step in range(1, steps + 1):
        time.sleep(pause)
        set_progress(step, steps, f"step {step} of {steps}")
    return steps


def stop_when_cancelled(state_id: str, seconds: float) -> str:
    invoke_callback(state_id, set_message, [f"pid {os.getpid()}"])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_cancelled():
            return "stopped early"
        time.sleep(0.05)
    return "ran to the end"


def progress_until_cancelled(state_id: str, seconds: float) -> str:
    invoke_callback(state_id, set_message, [f"pid {os.getpid()}"])
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline:
        step += 1
        set_progress(step, None, "working")
        time.sleep(0.3)
    return "ran to the end"


def set_message_later(state_id: str) -> None:
    invoke_callback(state_id, set_message, ["ran although cancelled"])


def post_messages(state_id: str, messages: list[str], pause: float) -> str:
    for text in messages:
        invoke_callback(state_id, set_message, [text])
        time.sleep(pause)
    return "done"


# Callbacks and status functions (run with the state).


def append_item(state: State, value: Any) -> None:
    state.items = [*state.items, value]


def set_message(state: State, text: str) -> str:
    state.message = text
    state.events = [*state.events, ["message", text]]
    return f"set {text}"


def increment(state: State) -> int:
    state.counter = state.counter + 1
    return int(state.counter)


def raise_in_callback(state: State) -> None:
    state.message = "changed before the error"
    raise RuntimeError("callback broke")


def record_status(state: State, status: Any, result: Any) -> None:
    state.events = [*state.events, ["status", status, result]]


def record_status_only(state: State, status: Any) -> None:
    state.events = [*state.events, ["status-only", status]]


def record_status_with_args(state: State, status: Any, tag: str, extra: Any, result: Any) -> None:
    state.events = [*state.events, ["status-args", status, tag, extra, result]]


def record_status_varargs(state: State, *values: Any) -> None:
    state.events = [*state.events, ["varargs", *values]]


def record_status_timed(state: State, status: Any, result: Any) -> None:
    """Record when each periodic status arrives, and take 200 ms, to show the period does not drift."""
    state.events = [*state.events, ["timed", status, time.time()]]
    if not isinstance(status, bool):
        time.sleep(0.2)


def record_outcome(state: State, status: Any) -> None:
    from longcallbacks import current_long_callback

    record = current_long_callback()
    assert record is not None
    state.events = [*state.events, ["outcome", status, record.status, record.error_message]]


def failing_status(state: State, status: Any, result: Any) -> None:
    state.events = [*state.events, ["failing-status", status]]
    raise RuntimeError(f"status function broke on {status!r}")


# State variables, actions and status functions of the live (websocket) tests.


class LiveVariables(StateVariables):
    status_log: list = []  # type: ignore[type-arg]
    task_result: str = ""
    bench_seq: int = -1


@action("set_message")
def set_message_action(state: State, payload: dict[str, Any]) -> None:
    text = payload.get("text", "")
    state.message = text if isinstance(text, str) else ",".join(text)


@action("fail")
def failing_action(state: State, payload: dict[str, Any]) -> None:
    state.message = "changed before the error"
    raise RuntimeError("action broke")


@action
def run_noop(state: State, payload: dict[str, Any]) -> None:
    invoke_long_callback(state, do_nothing)


@action("start_job")
def start_job(state: State, payload: dict[str, Any]) -> None:
    seconds = float(str(payload.get("seconds", "1.2")))
    notify(state, "info", "Job started")
    invoke_long_callback(state, sleep_then_return, [seconds, payload.get("value", "done")], record_job_status, [], 500)


def record_job_status(state: State, status: Any, result: Any) -> None:
    state.status_log = [*state.status_log, status]
    if isinstance(status, bool):
        state.task_result = str(result)
        notify(state, "success", f"Job finished: {result}")


@action("bench")
def bench_action(state: State, payload: dict[str, Any]) -> None:
    invoke_long_callback(state, do_nothing, [], record_bench, [int(str(payload["seq"]))])


def record_bench(state: State, status: Any, seq: int) -> None:
    if status is True:
        state.bench_seq = seq
