"""The CSV analysis as a long callback: the worker-side user function and its state callbacks.

The user function runs on a Celery worker and opens the file by name: an upload through
Django's default storage (shared with the web process), or a bundled sample. It reports
progress with ``set_progress`` and stops when ``is_cancelled()`` turns True. It raises on a
bad file, so the status function receives False and notifies the user of the reason.
"""

from __future__ import annotations

import time
from typing import Any, Literal, cast

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils.html import format_html

from longcallbacks import (
    State,
    action,
    cancel_long_callback,
    invoke_callback,
    is_cancelled,
    notify,
    set_progress,
)
from longcallbacks.models import LongCallback

from .charts import histogram_svg
from .csv_analysis import AnalysisCancelled, CsvAnalysisError, analyze_csv
from .samples import ReadableFile, open_sample

# Seconds between two progress texts pushed to the page (each locks the state row briefly),
# and between two reads of the record's cancelled status.
PROGRESS_INTERVAL = 0.25
CANCEL_CHECK_INTERVAL = 0.5

# Most frequent values listed per column in the table.
TOP_VALUES = 3

SOURCE_UPLOAD = "upload"
SOURCE_SAMPLE = "sample"
RAGGED_CHOICES = ("error", "skip")

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


# Worker side ------------------------------------------------------------------------


def open_source(source: str, name: str) -> tuple[ReadableFile, int]:
    """Open an upload (a storage name) or a sample (its key) and return it with its size."""
    if source == SOURCE_UPLOAD:
        return default_storage.open(name, "rb"), default_storage.size(name)
    if source == SOURCE_SAMPLE:
        return open_sample(name)
    raise ValueError(f"Unknown analysis source {source!r}; expected {SOURCE_UPLOAD!r} or {SOURCE_SAMPLE!r}.")


def report_progress(state_id: str, run_id: str, rows_read: int, bytes_read: int, total_bytes: int | None) -> None:
    """Store the progress in the long callback record and show it on the page.

    set_progress fills the record (the admin shows it) and raises LongCallbackCancelled once
    the run is cancelled; the page's run list and the admin show the record. The page's own
    text and bar are state variables, pushed by show_progress.
    """
    message = f"{rows_read:,} rows read"
    if total_bytes:
        set_progress(min(bytes_read, total_bytes), total_bytes, message)
    else:
        set_progress(rows_read, None, message)
    invoke_callback(state_id, show_progress, [run_id, rows_read, bytes_read, total_bytes])


class ProgressThrottle:
    """The engine's on_progress hook: passes at most one report per PROGRESS_INTERVAL to the page."""

    def __init__(self, state_id: str, run_id: str) -> None:
        self.state_id = state_id
        self.run_id = run_id
        self.last_sent = 0.0

    def __call__(self, rows_read: int, bytes_read: int, total_bytes: int | None) -> None:
        now = time.monotonic()
        if now - self.last_sent < PROGRESS_INTERVAL:
            return
        self.last_sent = now
        report_progress(self.state_id, self.run_id, rows_read, bytes_read, total_bytes)


class CancelCheck:
    """The engine's is_cancelled hook: reads the record's status at most every CANCEL_CHECK_INTERVAL."""

    def __init__(self) -> None:
        self.last_checked = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.last_checked < CANCEL_CHECK_INTERVAL:
            return False
        self.last_checked = now
        return is_cancelled()


def analyse_csv_file(state_id: str, run_id: str, source: str, name: str, ragged: str) -> dict[str, Any]:
    """Analyse one CSV file and return the engine's summary with the run time added.

    An upload is deleted from storage afterwards, whatever the outcome. Raises ValueError
    for a ``ragged`` other than "error" or "skip".
    """
    if ragged not in RAGGED_CHOICES:
        raise ValueError(f"Invalid ragged option {ragged!r}; expected one of {RAGGED_CHOICES}.")
    ragged_rows = cast(Literal["error", "skip"], ragged)
    started = time.monotonic()
    try:
        stream, size = open_source(source, name)
        try:
            result = analyze_csv(
                stream,
                total_bytes=size,
                on_progress=ProgressThrottle(state_id, run_id),
                is_cancelled=CancelCheck(),
                ragged=ragged_rows,
                top_values=TOP_VALUES,
                # The limit is for uploads; the samples are the demo's own files.
                max_bytes=settings.DEMO_ANALYSIS_MAX_BYTES if source == SOURCE_UPLOAD else None,
            )
        finally:
            stream.close()
    except CsvAnalysisError as error:
        invoke_callback(state_id, record_failure, [run_id, "error", error.message])
        raise
    except AnalysisCancelled:
        invoke_callback(
            state_id,
            record_failure,
            [run_id, "cancelled", "The analysis was cancelled."],
        )
        raise
    finally:
        if source == SOURCE_UPLOAD:
            default_storage.delete(name)

    result["seconds"] = round(time.monotonic() - started, 2)
    result["total_bytes"] = size
    return result


# State side: callbacks and the status function ----------------------------------------


def show_progress(state: State, run_id: str, rows_read: int, bytes_read: int, total_bytes: int | None) -> None:
    if state.analysis_run != run_id:
        return
    if total_bytes:
        percent = min(100, int(100 * bytes_read / total_bytes))
        text = f"{rows_read:,} rows read, {percent}% of {total_bytes:,} bytes"
    else:
        percent = 0
        text = f"{rows_read:,} rows read"
    with state:
        state.analysis_progress = text
        state.analysis_bar = progress_bar(percent)


def progress_bar(percent: int) -> str:
    return str(
        format_html(
            '<progress class="progress" max="100" value="{}">{}%</progress>',
            percent,
            percent,
        )
    )


def record_failure(state: State, run_id: str, kind: str, message: str) -> None:
    if state.analysis_run != run_id:
        return
    with state:
        state.analysis_failure = kind
        state.analysis_outcome = message


def analysis_status(
    state: State,
    status: bool | int,
    run_id: str,
    file_name: str,
    result: dict[str, Any] | None,
) -> None:
    """Show the table when the run succeeded, or the reason it failed, and clear the running run."""
    if not isinstance(status, bool) or state.analysis_run != run_id:
        return

    if status and result is not None:
        with state:
            state.analysis_run = ""
            state.analysis_record = ""
            state.analysis_failure = ""
            state.analysis_progress = f"{result['row_count']:,} rows analysed in {result['seconds']} s"
            state.analysis_bar = progress_bar(100)
            state.analysis_outcome = summary_sentence(file_name, result)
            state.analysis_result = render_result(file_name, result)
        notify(
            state,
            "success",
            f"Analysis of {file_name} finished: {result['row_count']:,} rows.",
        )
        return

    failure = state.analysis_failure
    message = state.analysis_outcome if failure else "The analysis failed unexpectedly. The server log has the details."
    if not failure and run_was_cancelled(state.analysis_record):
        # Cancelled from the run list or the admin rather than by the page's own action.
        failure = "cancelled"
        message = "The analysis was cancelled."
    with state:
        state.analysis_run = ""
        state.analysis_record = ""
        state.analysis_bar = ""
        state.analysis_failure = failure or "error"
        state.analysis_outcome = message
        if failure != "cancelled":
            # A cancelled run keeps its last count, which shows how far it got.
            state.analysis_progress = "Stopped."
    if failure == "cancelled":
        notify(state, "warning", f"Analysis of {file_name} cancelled.")
    else:
        notify(state, "error", f"{file_name}: {message}")


def run_was_cancelled(record_id: str) -> bool:
    """Return whether the long callback record ended cancelled; finalize saves it before this runs."""
    if not record_id:
        return False
    return LongCallback.objects.filter(pk=record_id, status=LongCallback.Status.CANCELLED).exists()


def summary_sentence(file_name: str, result: dict[str, Any]) -> str:
    skipped = result["skipped_rows"]
    skipped_text = f", {skipped:,} ragged rows skipped" if skipped else ""
    return f"{file_name}: {result['row_count']:,} rows and {len(result['columns'])} columns{skipped_text}."


# Rendering ---------------------------------------------------------------------------


def format_number(value: float | str | None) -> str:
    """Format a statistic for the table: integers whole, other numbers with two decimals."""
    if value is None:
        return "–"
    if isinstance(value, (bool, str, int)):
        return str(value)
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.2f}"


def render_result(file_name: str, result: dict[str, Any]) -> str:
    """Render the summary table as HTML; the template escapes every value from the file."""
    columns = []
    for column in result["columns"]:
        total = column["count"] + column["missing"]
        histogram = column["histogram"]
        counts = [bin_["count"] for bin_ in histogram["bins"]] if histogram else []
        columns.append(
            {
                "name": column["name"],
                "type": column["type"],
                "count": f"{column['count']:,}",
                "missing": f"{column['missing']:,}",
                "has_missing": column["missing"] > 0,
                "missing_percent": f"{100 * column['missing'] / total:.1f}" if total else "0.0",
                "distinct": f"{column['distinct']:,}",
                "distinct_approximate": column["distinct_approximate"],
                "min": format_number(column["min"]),
                "max": format_number(column["max"]),
                "mean": format_number(column["mean"]),
                "std": format_number(column["std"]),
                "top_values": [
                    {"value": item["value"], "count_text": f"{item['count']:,}"} for item in column["top_values"]
                ],
                "top_values_approximate": column["top_values_approximate"],
                "histogram": histogram_svg(counts, f"Histogram of {column['name']}") if counts else "",
                "histogram_range": (
                    f"{format_number(column['min'])} to {format_number(column['max'])}" if counts else ""
                ),
            }
        )
    context = {
        "file_name": file_name,
        "result": result,
        "row_count": f"{result['row_count']:,}",
        "skipped_rows": f"{result['skipped_rows']:,}" if result["skipped_rows"] else "",
        "columns": columns,
        "delimiter": DELIMITER_NAMES.get(result["delimiter"], repr(result["delimiter"])),
    }
    return render_to_string("demo/analysis_result.html", context)


# Actions -----------------------------------------------------------------------------


@action("analysis_cancel")
def analysis_cancel(state: State, payload: dict[str, Any]) -> None:
    record_id = state.analysis_record
    if not state.analysis_run or not record_id:
        notify(state, "info", "No analysis is running.")
        return
    with state:
        state.analysis_failure = "cancelled"
        state.analysis_outcome = "The analysis was cancelled."
        # Calls analysis_status with False at once; the worker stops at its next check.
        if not cancel_long_callback(state, record_id):
            notify(state, "info", "The analysis had already ended.")
