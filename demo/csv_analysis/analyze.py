"""The analyze_csv() driver: one streaming pass from bytes to the JSON summary."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

from .columns import ColumnAccumulator
from .detection import detect_format
from .errors import AnalysisCancelled, CsvAnalysisError
from .reader import BinaryReadable, ByteSource, DecodedLines, too_large_message

ProgressCallback = Callable[[int, int, int | None], None]

# Rows are parsed into batches that the column accumulators process column-wise, which
# is several times faster than per-value Python code. A batch ends after BATCH_ROWS rows
# or BATCH_CHARS decoded characters, whichever comes first, which bounds its memory.
# Cancellation is checked and progress considered after every batch.
BATCH_ROWS = 2000
BATCH_CHARS = 1024 * 1024

# on_progress runs at most once per batch and at least this many seconds apart, plus
# once at the end. Tests change it through the module attribute.
PROGRESS_INTERVAL_SECONDS = 0.2

# More columns than this raise "too_large".
MAX_COLUMNS = 1000

# Maximum number of values counted exactly across all columns. An exactly counted value
# costs about 120 bytes (short ASCII text) and at most about 500 bytes, so this keeps the
# exact phase under about 60 MB typical and 250 MB worst case. Files with more than
# EXACT_VALUES_BUDGET / distinct_limit columns (50 at the defaults) get a lower
# per-column limit, and their columns switch to the estimate sooner.
EXACT_VALUES_BUDGET = 500_000

MAX_TOP_VALUES = 100
MAX_HISTOGRAM_BINS = 100

monotonic: Callable[[], float] = time.monotonic


def analyze_csv(
    stream: BinaryReadable,
    *,
    total_bytes: int | None = None,
    on_progress: ProgressCallback | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    ragged: Literal["error", "skip"] = "error",
    distinct_limit: int = 10_000,
    top_values: int = 5,
    histogram_bins: int = 10,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Analyze a CSV file in one streaming pass and return a JSON-serializable summary.

    ``stream`` is a binary file object. It is read once from its current position with
    read(size) and never seeked or reopened, so non-seekable uploads and pipes work.
    ``total_bytes`` is the expected size. It is passed on to ``on_progress`` and
    checked against ``max_bytes`` before reading, and ``max_bytes`` is also enforced
    while reading.

    ``on_progress(rows_read, bytes_read, total_bytes)`` runs after a batch of rows when
    PROGRESS_INTERVAL_SECONDS have passed since the last call, and once at the end.
    ``rows_read`` counts data rows including skipped ragged rows, and ``bytes_read``
    the bytes read from the stream so far. ``is_cancelled()`` runs before reading and
    after every batch of at most BATCH_ROWS rows, so it should be cheap.

    ``ragged="error"`` raises on a row whose field count differs from the header's, and
    ``ragged="skip"`` skips and counts it. ``distinct_limit`` is the number of distinct
    values per column counted exactly. Files with more than EXACT_VALUES_BUDGET /
    distinct_limit columns get a lower limit. ``top_values`` (0 to 100) and
    ``histogram_bins`` (1 to 100) set the sizes of those parts of the result. The
    package docstring describes the result and the error codes.

    Raises CsvAnalysisError for problems in the file, AnalysisCancelled when
    ``is_cancelled()`` returns True, and ValueError for invalid options.
    """
    _validate_options(ragged, distinct_limit, top_values, histogram_bins, max_bytes, total_bytes)
    if max_bytes is not None and total_bytes is not None and total_bytes > max_bytes:
        raise CsvAnalysisError("too_large", too_large_message(max_bytes, total_bytes))
    _check_cancelled(is_cancelled, 0)

    source = ByteSource(stream, max_bytes)
    csv_format, sample = detect_format(source)
    encoding = csv_format.encoding
    lines = DecodedLines(
        source,
        sample,
        codec=encoding.codec,
        label=encoding.label,
        bom_length=encoding.bom_length,
        newline=csv_format.newline,
    )
    del sample
    reader = csv.reader(lines, delimiter=csv_format.delimiter)
    records = _numbered_records(reader)

    progress = _ProgressReporter(on_progress, total_bytes)
    # Leading blank lines are skipped, as the detection sample skipped them.
    first = next(records, None)
    while first is not None and _is_blank(first[1], width=2):
        first = next(records, None)
    header_line, first_record = first if first is not None else (0, [])
    width = len(first_record)
    if width > MAX_COLUMNS:
        raise CsvAnalysisError(
            "too_large",
            f"Line {header_line} has {width:,} fields, more than the {MAX_COLUMNS:,} columns this analysis "
            "supports. Remove columns or split the file.",
            line=header_line,
        )
    names = _column_names(first_record) if csv_format.has_header else [f"column_{i}" for i in range(1, width + 1)]
    column_distinct_limit = min(distinct_limit, max(1, EXACT_VALUES_BUDGET // max(width, 1)))
    columns = [
        ColumnAccumulator(
            name, distinct_limit=column_distinct_limit, top_values=top_values, histogram_bins=histogram_bins
        )
        for name in names
    ]
    reference = "the header has" if csv_format.has_header else "the first row has"

    batch: list[list[str]] = [] if csv_format.has_header else [first_record]
    batch_start_chars = 0
    rows_read = len(batch)
    row_count = 0
    skipped_rows = 0
    for line, record in records:
        if len(record) != width:
            if _is_blank(record, width):
                continue
            if ragged == "error":
                raise CsvAnalysisError(
                    "ragged",
                    f"Line {line} has {_fields(len(record))} but {reference} {width}. "
                    "Fix the row or choose 'skip ragged rows'.",
                    line=line,
                )
            skipped_rows += 1
            rows_read += 1
            if skipped_rows % BATCH_ROWS == 0:
                _check_cancelled(is_cancelled, rows_read)
            continue
        batch.append(record)
        rows_read += 1
        if len(batch) >= BATCH_ROWS or lines.chars_yielded - batch_start_chars >= BATCH_CHARS:
            row_count += _add_batch(columns, batch)
            batch = []
            batch_start_chars = lines.chars_yielded
            _check_cancelled(is_cancelled, rows_read)
            progress.report(rows_read, source.bytes_read)
    row_count += _add_batch(columns, batch)
    progress.report(rows_read, source.bytes_read, final=True)

    return {
        "encoding": encoding.label,
        "delimiter": csv_format.delimiter,
        "has_header": csv_format.has_header,
        "row_count": row_count,
        "skipped_rows": skipped_rows,
        "columns": [column.result() for column in columns],
    }


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def _numbered_records(reader: _CsvReader) -> Iterator[tuple[int, list[str]]]:
    """Yield each record with the 1-based line it starts on, turning csv.Error into CsvAnalysisError."""
    line_before = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = line_before + 1
            if "field larger than field limit" in str(error):
                raise CsvAnalysisError(
                    "too_large",
                    f"The record that starts on line {line} has a field longer than {csv.field_size_limit():,} "
                    "characters. Check for a quote character that is never closed.",
                    line=line,
                ) from None
            if "new-line character seen in unquoted field" in str(error):
                raise CsvAnalysisError(
                    "malformed",
                    f"Line {line} contains a carriage return outside quotes in the middle of a row. "
                    "Quote the fields that contain line breaks, or save the file with one kind of line ending.",
                    line=line,
                ) from None
            raise CsvAnalysisError(
                "malformed",
                f"Line {line} could not be parsed as CSV ({str(error).rstrip('.?')}). "
                "Check the line for a stray quote or line break.",
                line=line,
            ) from None
        yield line_before + 1, record
        line_before = reader.line_num


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count:,} fields"


def _add_batch(columns: list[ColumnAccumulator], batch: list[list[str]]) -> int:
    if not batch:
        return 0
    # Every batched record has exactly len(columns) fields.
    for column, fields in zip(columns, zip(*batch, strict=True), strict=True):
        column.add_batch(fields)
    return len(batch)


def _is_blank(record: list[str], width: int) -> bool:
    # A blank line is [] from the csv module, or one whitespace field when the file has
    # more than one column. In a one-column file, "  " is a missing value.
    return not record or (width > 1 and len(record) == 1 and not record[0].strip())


def _column_names(header: list[str]) -> list[str]:
    """Return unique names: blank labels become column_<position>, repeats get _2, _3, …"""
    names: list[str] = []
    used: set[str] = set()
    for position, label in enumerate(header, start=1):
        base = label.strip() or f"column_{position}"
        name = base
        suffix = 2
        while name in used:
            name = f"{base}_{suffix}"
            suffix += 1
        used.add(name)
        names.append(name)
    return names


def _check_cancelled(is_cancelled: Callable[[], bool] | None, rows_read: int) -> None:
    if is_cancelled is not None and is_cancelled():
        raise AnalysisCancelled(f"The analysis was cancelled after {rows_read:,} rows.")


class _ProgressReporter:
    """Throttle that passes reports to on_progress at most every PROGRESS_INTERVAL_SECONDS.

    The final report always passes.
    """

    def __init__(self, on_progress: ProgressCallback | None, total_bytes: int | None) -> None:
        self.on_progress = on_progress
        self.total_bytes = total_bytes
        self.last_report = monotonic()

    def report(self, rows_read: int, bytes_read: int, *, final: bool = False) -> None:
        if self.on_progress is None:
            return
        now = monotonic()
        if not final and now - self.last_report < PROGRESS_INTERVAL_SECONDS:
            return
        self.last_report = now
        self.on_progress(rows_read, bytes_read, self.total_bytes)


def _validate_options(
    ragged: str,
    distinct_limit: int,
    top_values: int,
    histogram_bins: int,
    max_bytes: int | None,
    total_bytes: int | None,
) -> None:
    if ragged not in ("error", "skip"):
        raise ValueError(f"ragged must be 'error' or 'skip', not {ragged!r}.")
    if not isinstance(distinct_limit, int) or distinct_limit < 1:
        raise ValueError(f"distinct_limit must be a positive integer, not {distinct_limit!r}.")
    if not isinstance(top_values, int) or not 0 <= top_values <= MAX_TOP_VALUES:
        raise ValueError(f"top_values must be an integer from 0 to {MAX_TOP_VALUES}, not {top_values!r}.")
    if not isinstance(histogram_bins, int) or not 1 <= histogram_bins <= MAX_HISTOGRAM_BINS:
        raise ValueError(f"histogram_bins must be an integer from 1 to {MAX_HISTOGRAM_BINS}, not {histogram_bins!r}.")
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"max_bytes must be None or a non-negative integer, not {max_bytes!r}.")
    if total_bytes is not None and (not isinstance(total_bytes, int) or total_bytes < 0):
        raise ValueError(f"total_bytes must be None or a non-negative integer, not {total_bytes!r}.")
