"""Byte reading and incremental decoding of the input stream into physical lines."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Protocol

from .errors import CsvAnalysisError

# Bytes requested from the stream per read call.
CHUNK_BYTES = 64 * 1024

# Maximum length of one physical line. Lines are split from chunks, so a line can exceed
# this by at most one decoded chunk before the check runs. It bounds the memory of a
# file without line breaks, which the csv module would otherwise take as one record.
MAX_LINE_CHARS = 1024 * 1024


class BinaryReadable(Protocol):
    """Any object with a binary read(size), such as an open file, BytesIO or an upload."""

    def read(self, size: int = -1, /) -> bytes | None: ...


class ByteSource:
    """Chunked reader of the input stream that counts bytes and enforces the size limit.

    The stream is read once from its current position and never seeked, so uploads,
    pipes and other non-seekable streams work. A ``None`` from read() counts as the
    end of the stream, so non-blocking streams are not supported.
    """

    def __init__(self, stream: BinaryReadable, max_bytes: int | None) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self.bytes_read = 0
        self.at_end = False

    def read_chunk(self) -> bytes:
        """Return the next chunk, or b"" at the end of the stream."""
        if self.at_end:
            return b""
        size = CHUNK_BYTES
        if self.max_bytes is not None:
            # Reading one byte past the limit is enough to detect an oversized file.
            size = max(1, min(size, self.max_bytes + 1 - self.bytes_read))
        chunk = self.stream.read(size)
        if chunk is None or len(chunk) == 0:
            self.at_end = True
            return b""
        if isinstance(chunk, str):
            raise TypeError("analyze_csv() needs a binary stream, but read() returned str. Open the file in 'rb' mode.")
        chunk = bytes(chunk)
        self.bytes_read += len(chunk)
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise CsvAnalysisError("too_large", too_large_message(self.max_bytes))
        return chunk


def too_large_message(max_bytes: int, total_bytes: int | None = None) -> str:
    size = f" ({total_bytes:,} bytes)" if total_bytes is not None else ""
    return (
        f"The file{size} is larger than the limit of {max_bytes:,} bytes. Upload a smaller file or split it into parts."
    )


class DecodedLines:
    """Iterator over the physical lines of the stream, with their line endings.

    ``newline`` is "\\n" (which also covers "\\r\\n") or "\\r" for files with only carriage
    returns. Lines keep their endings because the csv module needs them inside quoted
    fields. ``chars_yielded`` counts decoded characters handed out, for batch sizing.
    """

    def __init__(
        self, source: ByteSource, first_bytes: bytes, *, codec: str, label: str, bom_length: int, newline: str
    ) -> None:
        self.source = source
        self.first_bytes = first_bytes
        self.codec = codec
        self.label = label
        self.bom_length = bom_length
        self.newline = newline
        self.decoder = codecs.getincrementaldecoder(codec)()
        self.bytes_decoded = 0
        self.lines_completed = 0
        self.chars_yielded = 0

    def __iter__(self) -> Iterator[str]:
        return self._lines()

    def _lines(self) -> Iterator[str]:
        newline = self.newline
        pending = ""
        chunk = self.first_bytes[self.bom_length :]
        self.first_bytes = b""
        self.bytes_decoded = self.bom_length
        while True:
            final = not chunk and self.source.at_end
            text = self._decode(chunk, final)
            if "\x00" in text:
                line_number = self.lines_completed + text[: text.index("\x00")].count(newline) + 1
                raise CsvAnalysisError(
                    "binary",
                    f"Line {line_number} contains a NUL character, so this is not a text CSV file. "
                    "Choose a CSV file exported as text.",
                    line=line_number,
                )
            parts = (pending + text).split(newline)
            pending = parts.pop()
            for part in parts:
                line = part + newline
                self.lines_completed += 1
                self.chars_yielded += len(line)
                yield line
            if len(pending) > MAX_LINE_CHARS:
                line_number = self.lines_completed + 1
                raise CsvAnalysisError(
                    "too_large",
                    f"Line {line_number} is longer than {MAX_LINE_CHARS:,} characters. "
                    "Check that the file is a CSV file with line breaks between rows.",
                    line=line_number,
                )
            if final:
                break
            chunk = self.source.read_chunk()
        if pending:
            self.lines_completed += 1
            self.chars_yielded += len(pending)
            yield pending

    def _decode(self, chunk: bytes, final: bool) -> str:
        buffered = len(self.decoder.getstate()[0])
        try:
            text = self.decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            # error.object is the decoder's buffered bytes followed by this chunk.
            raise undecodable_error(
                error,
                codec=self.codec,
                label=self.label,
                object_offset=self.bytes_decoded - buffered,
                lines_before=self.lines_completed,
                newline=self.newline,
            ) from None
        self.bytes_decoded += len(chunk)
        return text


def undecodable_error(
    error: UnicodeDecodeError, *, codec: str, label: str, object_offset: int, lines_before: int, newline: str
) -> CsvAnalysisError:
    """Build the error for bytes that ``codec`` rejected, with their stream offset and line.

    ``object_offset`` is the stream offset of ``error.object[0]``, and ``lines_before``
    the number of line breaks decoded before it.
    """
    offset = object_offset + error.start
    valid_prefix = codecs.decode(error.object[: error.start], codec)
    line = lines_before + valid_prefix.count(newline) + 1
    bad_bytes = error.object[error.start : error.end].hex(" ").upper()
    return CsvAnalysisError(
        "undecodable",
        f"The bytes {bad_bytes} at byte offset {offset:,} (line {line}) are not valid {label} "
        f"({error.reason}). Save the file as UTF-8 and upload it again.",
        line=line,
    )
