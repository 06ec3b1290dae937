"""Sample CSV files that the analysis page offers next to uploads.

Two come from the palmerpenguins package (a requirement of the demo), one is generated
while it is read, so its size costs no disk, and one is a small broken file that shows
how errors are reported.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Protocol

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


class ReadableFile(Protocol):
    """File interface the analysis needs: binary reads and a close."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Sample:
    key: str
    file_name: str
    description: str


SAMPLES: tuple[Sample, ...] = (
    Sample("penguins", "penguins.csv", "Penguins: 344 rows, NA values"),
    Sample("penguins-raw", "penguins-raw.csv", "Penguins raw: 17 columns, dates"),
    Sample("sensor-readings", "sensor-readings.csv", "Sensor readings: 1,000,000 rows"),
    Sample("ragged", "ragged.csv", "Broken: a row with an extra field"),
)

SAMPLES_BY_KEY = {sample.key: sample for sample in SAMPLES}

SENSOR_ROWS = 1_000_000


def open_sample(key: str) -> tuple[ReadableFile, int]:
    """Open a sample for reading in binary mode and return it with its size in bytes.

    Raises KeyError for an unknown key.
    """
    sample = SAMPLES_BY_KEY[key]
    if key in ("penguins", "penguins-raw"):
        data = resources.files("palmerpenguins").joinpath("data", sample.file_name)
        size = len(data.read_bytes())
        return data.open("rb"), size
    if key == "sensor-readings":
        generated = GeneratedSensorCsv(SENSOR_ROWS)
        return generated, generated.total_bytes
    path = SAMPLES_DIR / sample.file_name
    return path.open("rb"), path.stat().st_size


class GeneratedSensorCsv:
    """A binary stream of sensor readings, made row by row as it is read.

    The same rows come out on every read, because the random generator has a fixed seed.
    Every field has a fixed width except the ones whose widths depend only on the row
    number, so ``total_bytes`` is exact without generating the file.
    """

    HEADER = b"reading_id,recorded_at,sensor,temperature_c,humidity_pct,ok\n"
    START = datetime(2026, 1, 1)
    # Every MISSING_EVERY-th humidity is NA, and every FAILED_EVERY-th reading is not ok.
    MISSING_EVERY = 97
    FAILED_EVERY = 17
    ROWS_PER_BLOCK = 2000

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._next_row = 0
        self._buffer = bytearray(self.HEADER)
        self._random = random.Random(2026)

    @property
    def total_bytes(self) -> int:
        # 7 (id) + 19 (time) + 3 (sensor) + 5 (temperature) + 5 commas + newline, then
        # humidity (4 characters, or 2 for NA) and ok (3 for "yes", 2 for "no").
        rows = self.rows
        missing = (rows + self.MISSING_EVERY - 1) // self.MISSING_EVERY
        failed = (rows + self.FAILED_EVERY - 1) // self.FAILED_EVERY
        return len(self.HEADER) + rows * 40 + 4 * rows - 2 * missing + 3 * rows - failed

    def _row(self, index: int) -> str:
        recorded_at = (self.START + timedelta(minutes=index)).isoformat()
        sensor = f"S{index % 20 + 1:02d}"
        temperature = 24.0 + 8.0 * math.sin(index / 1440 * 2 * math.pi) + self._random.gauss(0.0, 1.5)
        temperature = min(max(temperature, 10.0), 39.99)
        humidity = (
            "NA" if index % self.MISSING_EVERY == 0 else f"{min(max(self._random.gauss(55.0, 12.0), 20.0), 89.9):.1f}"
        )
        ok = "no" if index % self.FAILED_EVERY == 0 else "yes"
        return f"{index + 1:07d},{recorded_at},{sensor},{temperature:.2f},{humidity},{ok}\n"

    def read(self, size: int = -1, /) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._next_row < self.rows:
            stop = min(self._next_row + self.ROWS_PER_BLOCK, self.rows)
            self._buffer += "".join(self._row(index) for index in range(self._next_row, stop)).encode("ascii")
            self._next_row = stop
        if size < 0:
            size = len(self._buffer)
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        return chunk

    def close(self) -> None:
        self._buffer.clear()
        self._next_row = self.rows
