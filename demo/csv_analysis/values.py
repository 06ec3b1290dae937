"""Classification of single CSV field values: missing markers, numbers, booleans and dates.

Every function here expects a value that is already stripped of surrounding whitespace.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Literal

ValueKind = Literal["missing", "integer", "float", "boolean", "date", "text"]

# Compared in lower case. All markers have at most four characters, which gives a cheap
# length test before the case conversion.
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})
MAX_MARKER_LENGTH = 4

# 0 and 1 are deliberately absent, so a column of 0/1 flags stays an integer column.
BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no"})

# ISO 8601 calendar dates, optionally followed by a time after "T" with optional seconds,
# fraction and UTC offset. datetime.fromisoformat then rejects impossible dates.
_DATE_PATTERN = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?",
    re.ASCII,
)


def is_missing(value: str) -> bool:
    """Return True for the empty string and the missing-value markers, in any case."""
    return len(value) <= MAX_MARKER_LENGTH and value.lower() in MISSING_MARKERS


def parse_numbers(values: list[str]) -> tuple[list[float], bool] | None:
    """Parse a batch of values as finite decimal numbers.

    Returns the floats and whether every value is an integer literal, or None when any
    value is not a plain ASCII decimal number. The batch-wide string checks exclude what
    float() accepts beyond that: underscores, non-ASCII digits, inf and nan.
    """
    joined = "".join(values)
    if not joined.isascii() or "_" in joined or "n" in joined or "N" in joined:
        return None
    try:
        numbers = list(map(float, values))
    except ValueError:
        return None
    # Literals such as 1e999 parse to inf, which JSON cannot carry.
    if not all(map(math.isfinite, numbers)):
        return None
    # A string that float() accepts and that has no ".", "e" or "E" is [+-]digits.
    all_integers = "." not in joined and "e" not in joined and "E" not in joined
    return numbers, all_integers


def is_boolean(value: str) -> bool:
    """Return True for true, false, yes and no in any case."""
    return value.lower() in BOOLEAN_WORDS


def parse_date(value: str) -> datetime | None:
    """Parse an ISO date or date-time, or return None.

    The result is a naive datetime that sorts in time order: dates become midnight, and
    times with a UTC offset are converted to UTC.
    """
    if not _DATE_PATTERN.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    return parsed


def classify_value(value: str) -> ValueKind:
    """Return the most specific kind that one value fits, for header detection."""
    if is_missing(value):
        return "missing"
    parsed = parse_numbers([value])
    if parsed is not None:
        return "integer" if parsed[1] else "float"
    if is_boolean(value):
        return "boolean"
    if parse_date(value) is not None:
        return "date"
    return "text"
