"""Streaming CSV analysis for the demo's long callback: types, statistics and sketches.

Pure Python with no Django imports, so it runs on a Celery worker or anywhere else.
Call ``analyze_csv(stream, ...)`` with a binary file object. It reads the stream once,
front to back, and never seeks or reopens it.

The result contains only str, int, float, bool, None, list and dict, with no NaN or inf:

- ``encoding``: "utf-8", "utf-8-sig" (UTF-8 with BOM), "utf-16-le", "utf-16-be" (both
  with BOM) or "latin-1". These are Python codec names.
- ``delimiter``: ",", ";", "\\t" or "|".
- ``has_header``: whether the first row was taken as column names.
- ``row_count``: data rows analyzed, without the header, blank lines and skipped rows.
- ``skipped_rows``: rows skipped with ``ragged="skip"`` because their field count differs.
- ``columns``: one dict per column with

  - ``name``: the header label, or ``column_<n>`` without a header or for a blank label.
  - ``type``: "integer", "float", "boolean", "date" or "text", inferred from all
    non-missing values. A column with no values is "text".
  - ``count`` and ``missing``: non-missing and missing values. The empty string, NA,
    N/A, NaN, null, None and "-" (any case, surrounding whitespace ignored) are missing.
  - ``distinct`` and ``distinct_approximate``: exact up to ``distinct_limit`` distinct
    values, then a HyperLogLog estimate (relative standard error about 0.8 %). Files
    with more than 50 columns get a lower limit, as the memory bounds below explain.
  - ``min`` and ``max``: numbers for numeric columns (int for integer columns), ISO
    strings as written in the file for date columns, else None.
  - ``mean`` and ``std``: mean and sample standard deviation of numeric columns, else None.
    ``std`` is None below two values.
  - ``top_values``: up to ``top_values`` dicts ``{"value": str, "count": int}``, most
    frequent first, ties by value. Values longer than 64 characters are cut and end in "…".
  - ``top_values_approximate``: True once the column has more than ``distinct_limit``
    distinct values. Counts are then lower bounds from a Misra-Gries summary.
  - ``histogram``: for numeric columns ``{"bins": [{"lower", "upper", "count"}, ...]}``
    with ``histogram_bins`` bins of about equal width from min to max (one bin if all
    values are equal). Bins are [lower, upper) except the last, which includes upper,
    and the counts add up to ``count``. Else None.

Errors raise CsvAnalysisError, a ValueError with ``code``, ``message`` and ``line``.
The codes are "empty", "binary", "undecodable", "ragged", "malformed" and "too_large".
"malformed" means the csv module rejected a line. "too_large" covers a file over
``max_bytes``, a line over 1 MiB, a field over the csv module's field size limit
(131,072 characters by default) and a file with more than 1,000 columns.

Memory does not depend on the number of rows. These are its bounds:

- Reading keeps one 64 KiB chunk, the 64 KiB detection sample until analysis starts,
  and one line of at most 1 MiB plus a chunk.
- A batch has at most 2,000 rows or about 1 MiB of text, plus one row.
- Each column counts up to ``distinct_limit`` values exactly, under keys of at most 81
  characters. A key costs about 120 bytes for short ASCII text and at most about 500.
  Past the limit, the column keeps a 16 KiB HyperLogLog and at most
  max(100, 20 * top_values) frequent-value counters instead.
- Each numeric column keeps a histogram grid of at most 1,024 fine bins of about 64
  bytes each, growing to 8,192 fine bins for 100 histogram bins.
- All columns together count at most 500,000 values exactly, so files with many
  columns switch to the estimates sooner.
"""

from .analyze import analyze_csv
from .errors import AnalysisCancelled, CsvAnalysisError

__all__ = ["AnalysisCancelled", "CsvAnalysisError", "analyze_csv"]
