from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from longcallbacks import State, get_state_id

T = TypeVar("T")


def eventually(probe: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Return the first truthy value of ``probe()``, or fail with its last value after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met after {timeout} s; last value: {value!r}")
        time.sleep(interval)
        value = probe()
    return value


def fresh(state: State) -> State:
    """Return a new State object for the same id, so reads come from the database."""
    return State(get_state_id(state))


def status_events(state: State) -> list[list[object]]:
    """Return the calls that ``callbacks.record_status`` stored in the state's ``events``."""
    return [event for event in fresh(state).events if event[0] == "status"]


def running_pid(state: State) -> int:
    """Return the pid that ``callbacks.store_pid_then_sleep`` (and its kin) stored."""
    message = eventually(lambda: fresh(state).message if fresh(state).message.startswith("pid ") else "")
    return int(message.split()[1])


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
