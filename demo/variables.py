"""Every state variable the demo pages show, with the text a new visitor sees."""

from __future__ import annotations

from longcallbacks import StateVariables


class DemoVariables(StateVariables):
    # /examples/status/: how the last task ended.
    status_outcome: str = "No task has run yet."

    # /examples/periodic/: the last periodic status.
    periodic_progress: str = "No task has run yet."

    # /examples/trigger-update/: lines added by invoke_callback, and the answer.
    logs: str = ""
    result: str = "No response yet"

    # /examples/result/: the return value that the status function stored.
    heavy_result: str = "No result yet"

    # /examples/pi/: elapsed seconds while running, then the value and an SVG chart that
    # demo.charts renders from numbers only (the page shows it with safe=True).
    pi_elapsed: str = "Not started"
    pi_value: str = "No value yet"
    pi_chart: str = ""

    # /analysis/: the run in progress, its progress and the outcome. analysis_result is HTML
    # rendered by a template with autoescaping, so file contents arrive escaped.
    # analysis_run is the demo's id of the run in progress ("" when none runs), and
    # analysis_record the long callback's record id, which cancelling needs.
    analysis_run: str = ""
    analysis_record: str = ""
    analysis_file: str = "No file analysed yet."
    analysis_progress: str = ""
    analysis_bar: str = ""
    # "error" or "cancelled" when the last run failed, with the reason in analysis_outcome.
    analysis_failure: str = ""
    analysis_outcome: str = ""
    analysis_result: str = ""
