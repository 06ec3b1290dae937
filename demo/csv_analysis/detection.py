"""Detection of encoding, line ending, delimiter and header row from the first bytes."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from dataclasses import dataclass

from .errors import CsvAnalysisError
from .reader import ByteSource, undecodable_error
from .values import classify_value

# Bytes read before detection. The sample is also the start of the analysis pass, so it
# is read only once.
SAMPLE_BYTES = 64 * 1024

# Records parsed from the sample for delimiter and header detection.
SAMPLE_RECORDS = 100

# Candidates in order of preference when two fit the sample equally well.
DELIMITERS = (",", "\t", ";", "|")

# A text file has almost no control characters other than tab and line breaks. Random
# binary data has about 9 % of them (24 of 256 byte values).
MAX_CONTROL_FRACTION = 0.01
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])

# Latin-1 text is mostly ASCII. Compressed or encrypted data has about half its bytes at
# 0x80 or above.
MAX_LATIN1_HIGH_FRACTION = 0.3
_ASCII_BYTES = bytes(range(0x80))

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)


@dataclass(frozen=True)
class Encoding:
    """A detected encoding: ``label`` is reported, ``codec`` decodes the bytes after the BOM."""

    label: str
    codec: str
    bom_length: int


@dataclass(frozen=True)
class CsvFormat:
    encoding: Encoding
    newline: str
    delimiter: str
    has_header: bool


def detect_format(source: ByteSource) -> tuple[CsvFormat, bytes]:
    """Read the sample from ``source`` and detect the file's format.

    Returns the format and the sample bytes, which the caller must analyze before
    reading further chunks.
    """
    sample = _read_sample(source)
    if not sample:
        raise CsvAnalysisError(
            "empty", "The file is empty (0 bytes). Choose a CSV file with a header row and data rows."
        )

    encoding = detect_encoding(sample, at_end=source.at_end)
    text = _decode_sample(sample, encoding, at_end=source.at_end)
    if not text.strip():
        where = "file contains" if source.at_end else f"first {len(sample):,} bytes of the file contain"
        raise CsvAnalysisError(
            "empty",
            f"The {where} only whitespace or a byte order mark. Choose a CSV file with a header row and data rows.",
        )
    _reject_binary_text(text, encoding)

    newline = "\n" if "\n" in text or "\r" not in text else "\r"
    delimiter, records = detect_delimiter(text, newline, at_end=source.at_end)
    csv_format = CsvFormat(encoding, newline, delimiter, has_header=detect_header(records))
    return csv_format, sample


def _read_sample(source: ByteSource) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < SAMPLE_BYTES:
        chunk = source.read_chunk()
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def detect_encoding(sample: bytes, *, at_end: bool) -> Encoding:
    """Return the encoding from a byte order mark, else UTF-8, else Latin-1 for text-like bytes.

    Raises CsvAnalysisError "binary" when the bytes do not look like text.
    """
    for bom, label, codec in _BOMS:
        if sample.startswith(bom):
            return Encoding(label, codec, len(bom))

    if b"\x00" in sample:
        raise CsvAnalysisError(
            "binary",
            "The file contains NUL bytes, so it is not a text CSV file. "
            "If it is UTF-16 text, save it again with a byte order mark or as UTF-8.",
        )
    try:
        # At a sample boundary, an incomplete UTF-8 sequence is left for the next chunk.
        codecs.getincrementaldecoder("utf-8")().decode(sample, at_end)
        return Encoding("utf-8", "utf-8", 0)
    except UnicodeDecodeError:
        pass

    high_bytes = len(sample.translate(None, _ASCII_BYTES))
    if high_bytes > MAX_LATIN1_HIGH_FRACTION * len(sample):
        raise CsvAnalysisError(
            "binary",
            f"{high_bytes / len(sample):.0%} of the first {len(sample):,} bytes are not ASCII and the file is not "
            "valid UTF-8, so it does not look like a CSV file. Choose a CSV file saved as UTF-8.",
        )
    return Encoding("latin-1", "latin-1", 0)


def _decode_sample(sample: bytes, encoding: Encoding, *, at_end: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding.codec)()
    try:
        return decoder.decode(sample[encoding.bom_length :], at_end)
    except UnicodeDecodeError as error:
        raise undecodable_error(
            error,
            codec=encoding.codec,
            label=encoding.label,
            object_offset=encoding.bom_length,
            lines_before=0,
            newline="\n",
        ) from None


def _reject_binary_text(text: str, encoding: Encoding) -> None:
    if "\x00" in text:
        raise CsvAnalysisError(
            "binary",
            f"The file decodes as {encoding.label} but contains NUL characters, so it is not a text CSV file. "
            "Choose a CSV file exported as text.",
        )
    control_count = len(text) - len(text.translate(_CONTROL_CHARACTERS))
    if control_count > MAX_CONTROL_FRACTION * len(text):
        raise CsvAnalysisError(
            "binary",
            f"{control_count:,} of the first {len(text):,} characters are control characters, so the file "
            "does not look like a CSV file. Choose a CSV file exported as text.",
        )


def sample_records(text: str, newline: str, delimiter: str, *, at_end: bool) -> list[list[str]]:
    """Parse the first non-blank records of the sample.

    Unless the sample is the whole file, the last record is dropped because a quoted
    field may continue past the sample. Parsing stops at a line that the csv module
    rejects, and the analysis pass reports that line.
    """
    if not at_end:
        text = text[: text.rfind(newline) + 1]
    lines = [line + newline for line in text.split(newline)]
    records: list[list[str]] = []
    try:
        for record in csv.reader(lines, delimiter=delimiter):
            if _is_blank(record):
                continue
            records.append(record)
            if len(records) > SAMPLE_RECORDS:
                break
    except csv.Error:
        return records
    if len(records) > 1 and (not at_end or len(records) > SAMPLE_RECORDS):
        records.pop()
    return records


def detect_delimiter(text: str, newline: str, *, at_end: bool) -> tuple[str, list[list[str]]]:
    """Return the delimiter whose field count is the most consistent, with the records it gives.

    Parsing with the csv module for each candidate keeps delimiters inside quoted fields
    from counting. The score is the share of records with the most common field count,
    which must be at least two. Ties go to the wider field count, then to the order of
    DELIMITERS. A file with one column gets ",".
    """
    best_delimiter = ","
    best_records: list[list[str]] | None = None
    best_score = (0.0, 0)
    for delimiter in DELIMITERS:
        records = sample_records(text, newline, delimiter, at_end=at_end)
        if not records:
            continue
        if best_records is None and delimiter == ",":
            best_records = records
        widths = Counter(len(record) for record in records)
        mode_width, mode_count = max(widths.items(), key=lambda item: (item[1], item[0]))
        if mode_width < 2:
            continue
        score = (mode_count / len(records), mode_width)
        if score > best_score:
            best_delimiter, best_records, best_score = delimiter, records, score
    return best_delimiter, best_records or []


def detect_header(records: list[list[str]]) -> bool:
    """Return whether the first record is a header row.

    The first row must consist of distinct text labels (empty cells allowed), with no
    numbers, booleans, dates or missing-value markers. It is a header when a column
    below it contains only numbers, booleans or dates. When every column is text, it is a
    header when none of its labels recurs in its column below, a guess that can be
    wrong for a file of short text rows.
    """
    if not records:
        return False
    labels = [value.strip() for value in records[0]]
    for label in labels:
        if label and classify_value(label) != "text":
            return False
    named = [label for label in labels if label]
    if not named or len(set(named)) != len(named):
        return False

    rows = [record for record in records[1:] if len(record) == len(labels)]
    if not rows:
        return True
    for position in range(len(labels)):
        kinds = {classify_value(row[position].strip()) for row in rows}
        kinds.discard("missing")
        if kinds and "text" not in kinds:
            return True
    for position, label in enumerate(labels):
        if label and any(row[position].strip() == label for row in rows):
            return False
    return True


def _is_blank(record: list[str]) -> bool:
    """Return True for a blank line, which the csv module yields as [] or one whitespace field."""
    return not record or (len(record) == 1 and not record[0].strip())
