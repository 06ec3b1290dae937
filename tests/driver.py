"""The web side of fault-injection tests, run as a subprocess so it can use a private Redis.

``python -m tests.driver STATES PER_STATE SECONDS PERIOD`` creates STATES states and invokes
PER_STATE long callbacks of ``sleep_then_return(SECONDS, index)`` on each, with
``record_status`` as status function, then prints ``{state_id: [record ids]}`` as JSON.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from longcallbacks import State, invoke_long_callback  # noqa: E402
from longcallbacks.models import StoredState  # noqa: E402
from tests import callbacks  # noqa: E402


def main(states: int, per_state: int, seconds: float, period: int) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = {}
    state_objects = [State(StoredState.objects.create().id) for _ in range(states)]
    index = 0
    for _ in range(per_state):
        for state in state_objects:
            handle = invoke_long_callback(
                state, callbacks.sleep_then_return, [seconds, index], callbacks.record_status, [], period
            )
            runs.setdefault(handle.state_id, []).append(str(handle.id))
            index += 1
    return runs


if __name__ == "__main__":
    states, per_state, seconds, period = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(states, per_state, seconds, period)))
