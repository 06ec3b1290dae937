"""Exceptions raised by the CSV analysis engine."""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["empty", "binary", "undecodable", "ragged", "malformed", "too_large"]


class CsvAnalysisError(ValueError):
    """A problem with the uploaded file that the user can fix.

    ``code`` is stable and meant for program logic, ``str(error)`` is a sentence to show
    the user, and ``line`` is the 1-based physical line the problem is on, when known.
    """

    def __init__(self, code: ErrorCode, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line

    def __reduce__(self) -> tuple[type[CsvAnalysisError], tuple[str, str, int | None]]:
        # Celery pickles task exceptions, and the default reduction would pass only the message.
        return (type(self), (self.code, self.message, self.line))


class AnalysisCancelled(Exception):
    """Raised when the caller's ``is_cancelled()`` returned True during the analysis."""
