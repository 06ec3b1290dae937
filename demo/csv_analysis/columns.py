"""Per-column accumulators that infer the type and collect statistics in one pass."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .sketches import FrequentItems, HyperLogLog, RunningMoments, StreamingHistogram, most_frequent
from .values import MAX_MARKER_LENGTH, MISSING_MARKERS, is_boolean, parse_date, parse_numbers

# Longer values are counted under a key made of their first MAX_KEY_CHARS characters, an
# ellipsis and a 64-bit digest of the whole value. This bounds the memory of every stored
# key, and two long values share a key only on a digest collision.
MAX_KEY_CHARS = 64
_ELLIPSIS = "\u2026"

# Smallest number of counters in the frequent-values summary. Top values are exact while
# a column has at most distinct_limit distinct values. After that, the summary keeps every
# value that fills more than 1 / (counters + 1) of the column.
MIN_TRACKED_VALUES = 100
TRACKED_VALUES_PER_TOP_VALUE = 20

# The range of a numeric column covers between a quarter of the histogram resolution and
# all of it in fine bins. 64 fine bins per output bin, rounded up to a power of two, make
# every output bin at least 16 fine bins wide, so snapping its edges to the fine grid
# moves them by at most 1/32 of its width. At 100 output bins that is 8,192 fine bins
# (about 512 KiB).
HISTOGRAM_RESOLUTION_PER_BIN = 64
MIN_HISTOGRAM_RESOLUTION = 1024


def value_key(value: str) -> str:
    """Return the bounded key under which ``value`` is counted."""
    if len(value) <= MAX_KEY_CHARS:
        return value
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()
    return value[:MAX_KEY_CHARS] + _ELLIPSIS + digest


def displayed_value(key: str) -> str:
    """Return the text shown for a key: the value itself, or its prefix and an ellipsis."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    return key[: MAX_KEY_CHARS + 1]


class ValueCounts:
    """Distinct count and most frequent values of one column.

    Counts are exact in a dict while the column has at most ``distinct_limit`` distinct
    keys of at most 81 characters. A key costs about 120 bytes for short ASCII text and
    at most about 500 bytes.
    Past that, the dict is replaced by a HyperLogLog (16 KiB) for the distinct count and
    a Misra-Gries summary (``capacity`` counters) for the frequent values.
    """

    def __init__(self, distinct_limit: int, capacity: int) -> None:
        self.distinct_limit = distinct_limit
        self.capacity = capacity
        self.exact: Counter[str] | None = Counter()
        self.sketch: HyperLogLog | None = None
        self.frequent: FrequentItems | None = None

    def add_batch(self, values: list[str]) -> None:
        keys = values if max(map(len, values)) <= MAX_KEY_CHARS else list(map(value_key, values))
        if self.exact is not None:
            self.exact.update(keys)
            if len(self.exact) > self.distinct_limit:
                self._switch_to_sketches(self.exact)
            return

        assert self.sketch is not None and self.frequent is not None
        batch = Counter(keys)
        self.sketch.add_keys(batch)
        self.frequent.add_counts(batch)

    def _switch_to_sketches(self, exact: Counter[str]) -> None:
        self.sketch = HyperLogLog()
        # A HyperLogLog ignores repeats, so adding each distinct key once is the same as
        # having added every value since the start.
        self.sketch.add_keys(exact)
        self.frequent = FrequentItems(self.capacity)
        self.frequent.add_counts(exact)
        self.exact = None

    def distinct(self, non_missing: int) -> tuple[int, bool]:
        """Return the distinct count and whether it is an estimate."""
        if self.exact is not None:
            return len(self.exact), False
        assert self.sketch is not None
        # The exact phase proved more than distinct_limit keys, and there cannot be more
        # distinct values than values.
        estimate = round(self.sketch.estimate())
        return min(max(estimate, self.distinct_limit + 1), non_missing), True

    def top(self, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Return the most frequent values with counts, and whether the counts are approximate."""
        if self.exact is not None:
            counts: dict[str, int] = self.exact
            approximate = False
        else:
            assert self.frequent is not None
            counts = self.frequent.counts
            approximate = True
        top = [{"value": displayed_value(key), "count": count} for key, count in most_frequent(counts, limit)]
        return top, approximate


class NumericSummary:
    """Moments, range and histogram of a column while all its values are numbers."""

    def __init__(self, histogram_resolution: int) -> None:
        self.moments = RunningMoments()
        self.histogram = StreamingHistogram(histogram_resolution)
        self.all_integers = True
        # Exact integer extremes, because floats lose integers above 2**53.
        self.integer_min: int | None = None
        self.integer_max: int | None = None

    def add_batch(self, texts: list[str], numbers: list[float], all_integers: bool) -> None:
        batch_low = min(numbers)
        batch_high = max(numbers)
        self.moments.add_batch(numbers)
        self.histogram.add_batch(numbers, batch_low, batch_high)

        self.all_integers = self.all_integers and all_integers
        if self.all_integers:
            integers = list(map(int, texts))
            low = min(integers)
            high = max(integers)
            self.integer_min = low if self.integer_min is None else min(self.integer_min, low)
            self.integer_max = high if self.integer_max is None else max(self.integer_max, high)


class DateRange:
    """Earliest and latest value of a column while all its values are ISO dates."""

    def __init__(self) -> None:
        self.earliest: tuple[datetime, str] | None = None
        self.latest: tuple[datetime, str] | None = None

    def add_batch(self, texts: list[str]) -> bool:
        """Update the range, or return False when a value is not a date."""
        parsed: list[tuple[datetime, str]] = []
        for text in texts:
            moment = parse_date(text)
            if moment is None:
                return False
            parsed.append((moment, text))
        earliest = min(parsed)
        latest = max(parsed)
        if self.earliest is None or earliest < self.earliest:
            self.earliest = earliest
        if self.latest is None or latest > self.latest:
            self.latest = latest
        return True


class ColumnAccumulator:
    """Type inference and statistics for one column, fed a batch of raw fields at a time.

    Each candidate type keeps its own state until a value rules it out, and then the
    state is dropped. Values are stripped of surrounding whitespace, and distinct and
    top values compare the stripped text, so "1" and "1.0" are two distinct values.
    """

    def __init__(self, name: str, *, distinct_limit: int, top_values: int, histogram_bins: int) -> None:
        self.name = name
        self.top_values = top_values
        self.histogram_bins = histogram_bins
        self.count = 0
        self.missing = 0
        wanted_resolution = HISTOGRAM_RESOLUTION_PER_BIN * histogram_bins
        resolution = max(MIN_HISTOGRAM_RESOLUTION, 1 << (wanted_resolution - 1).bit_length())
        self.numeric: NumericSummary | None = NumericSummary(resolution)
        self.may_be_boolean = True
        self.dates: DateRange | None = DateRange()
        capacity = max(MIN_TRACKED_VALUES, TRACKED_VALUES_PER_TOP_VALUE * top_values)
        self.values = ValueCounts(distinct_limit, capacity)

    def add_batch(self, fields: Sequence[str]) -> None:
        present = [
            value
            for value in map(str.strip, fields)
            if len(value) > MAX_MARKER_LENGTH or value.lower() not in MISSING_MARKERS
        ]
        self.missing += len(fields) - len(present)
        if not present:
            return
        self.count += len(present)

        if self.numeric is not None:
            parsed = parse_numbers(present)
            if parsed is None:
                self.numeric = None
            else:
                self.numeric.add_batch(present, *parsed)
        if self.may_be_boolean:
            self.may_be_boolean = all(map(is_boolean, present))
        if self.dates is not None and not self.dates.add_batch(present):
            self.dates = None
        self.values.add_batch(present)

    def inferred_type(self) -> str:
        if self.count == 0:
            return "text"
        if self.numeric is not None:
            return "integer" if self.numeric.all_integers else "float"
        if self.may_be_boolean:
            return "boolean"
        if self.dates is not None:
            return "date"
        return "text"

    def result(self) -> dict[str, Any]:
        """Return the column's JSON-serializable summary."""
        column_type = self.inferred_type()
        distinct, distinct_approximate = self.values.distinct(self.count)
        top, top_approximate = self.values.top(self.top_values)
        summary: dict[str, Any] = {
            "name": self.name,
            "type": column_type,
            "count": self.count,
            "missing": self.missing,
            "distinct": distinct,
            "distinct_approximate": distinct_approximate,
            "min": None,
            "max": None,
            "mean": None,
            "std": None,
            "top_values": top,
            "top_values_approximate": top_approximate,
            "histogram": None,
        }

        if column_type in ("integer", "float"):
            assert self.numeric is not None
            histogram = self.numeric.histogram
            if column_type == "integer":
                summary["min"] = self.numeric.integer_min
                summary["max"] = self.numeric.integer_max
            else:
                summary["min"] = histogram.low
                summary["max"] = histogram.high
            summary["mean"] = _finite_or_none(self.numeric.moments.mean)
            summary["std"] = _finite_or_none(self.numeric.moments.sample_std())
            summary["histogram"] = {"bins": histogram.bins(self.histogram_bins)}
        elif column_type == "date":
            assert self.dates is not None
            assert self.dates.earliest is not None
            assert self.dates.latest is not None
            summary["min"] = self.dates.earliest[1]
            summary["max"] = self.dates.latest[1]
        return summary


def _finite_or_none(value: float | None) -> float | None:
    """Return None for a missing or non-finite statistic, which JSON cannot carry.

    The mean or M2 of finite values overflows only when values come close to the float
    limit of about 1.8e308.
    """
    if value is None or not math.isfinite(value):
        return None
    return value
