"""Tests for demo.csv_analysis, the streaming CSV analysis engine.

Pure Python with no Django, so the file runs with ``-p no:django`` and under
pytest-django alike. Inputs are generated here. Expected values are computed
independently with the csv and statistics modules wherever a number is checked.
"""

from __future__ import annotations

import codecs
import csv
import importlib.resources
import io
import json
import math
import pickle
import random
import statistics
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.csv_analysis import AnalysisCancelled, CsvAnalysisError, analyze_csv
from demo.csv_analysis import analyze as analyze_module
from demo.csv_analysis.detection import SAMPLE_BYTES
from demo.csv_analysis.reader import CHUNK_BYTES, MAX_LINE_CHARS
from demo.csv_analysis.sketches import FrequentItems, HyperLogLog, StreamingHistogram

MISSING_MARKERS = {"", "na", "n/a", "nan", "null", "none", "-"}


# Helpers


def assert_json_only(value: Any, path: str = "result") -> None:
    """Fail unless ``value`` contains only JSON types and finite floats.

    json.dumps would accept tuples and int subclasses silently, so the types are checked one by one.
    """
    if value is None or type(value) in (str, bool, int):
        return
    if type(value) is float:
        assert math.isfinite(value), f"{path} is {value}"
        return
    if type(value) is list:
        for position, item in enumerate(value):
            assert_json_only(item, f"{path}[{position}]")
        return
    assert type(value) is dict, f"{path} has type {type(value).__name__}"
    for key, item in value.items():
        assert type(key) is str, f"{path} has key {key!r}"
        assert_json_only(item, f"{path}[{key!r}]")


def analyze_bytes(data: bytes, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = analyze_csv(io.BytesIO(data), **options)
    assert_json_only(result)
    json.dumps(result, allow_nan=False)
    return result


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [item for item in result["columns"] if item["name"] == name]
    assert len(matches) == 1, f"expected one column {name!r}, got {[c['name'] for c in result['columns']]}"
    return matches[0]


def csv_bytes(
    rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", line_ending: str = "\n"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_ending)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def expect_error(data: bytes, code: str, **options: Any) -> CsvAnalysisError:
    with pytest.raises(CsvAnalysisError) as caught:
        analyze_csv(io.BytesIO(data), **options)
    assert caught.value.code == code, str(caught.value)
    return caught.value


def is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING_MARKERS


def count_in_bins(values: list[float], bins: list[dict[str, Any]]) -> list[int]:
    """Count values per reported bin: [lower, upper), with the last bin closed."""
    counts = []
    for position, bin_ in enumerate(bins):
        last = position == len(bins) - 1
        lower, upper = bin_["lower"], bin_["upper"]
        counts.append(sum(1 for value in values if lower <= value and (value < upper or (last and value == upper))))
    return counts


class ReadCountingStream(io.RawIOBase):
    """Non-seekable binary stream over ``data`` that records how many bytes were read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.data[self.position : self.position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


class GeneratedCsvStream(io.RawIOBase):
    """Non-seekable stream of about ``total_bytes`` of CSV, generated on demand.

    Columns: a unique integer id, a float with 100,000 distinct values, a category with
    17 values, an ISO date and a quoted comment with an embedded comma and 5,000 values.
    Only one block of 1,000 rows exists in memory at a time.
    """

    HEADER = b"id,amount,category,day,comment\n"
    FILLER = "lorem ipsum dolor sit amet " * 7

    def __init__(self, total_bytes: int) -> None:
        self.total_bytes = total_bytes
        self.produced = len(self.HEADER)
        self.pending = self.HEADER
        self.next_id = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending and self.produced < self.total_bytes:
            self.pending = self._rows(1000)
            self.produced += len(self.pending)
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def _rows(self, count: int) -> bytes:
        rows = []
        for row_id in range(self.next_id, self.next_id + count):
            amount = (row_id * 7919) % 100_000 / 100
            day = f"2024-{row_id % 12 + 1:02d}-{row_id % 28 + 1:02d}"
            rows.append(f'{row_id},{amount:.2f},cat{row_id % 17},{day},"note {row_id % 5000}, {self.FILLER}"\n')
        self.next_id += count
        return "".join(rows).encode()


# Palmer penguins, checked against the csv and statistics modules


def penguins_bytes() -> bytes:
    return (importlib.resources.files("palmerpenguins") / "data" / "penguins.csv").read_bytes()


def penguins_columns() -> dict[str, list[str]]:
    reader = csv.DictReader(io.StringIO(penguins_bytes().decode("utf-8")))
    columns: dict[str, list[str]] = {name: [] for name in reader.fieldnames or []}
    for row in reader:
        for name, value in row.items():
            columns[name].append(value)
    return columns


@pytest.fixture(scope="module")
def penguins_result() -> dict[str, Any]:
    with (importlib.resources.files("palmerpenguins") / "data" / "penguins.csv").open("rb") as stream:
        result = analyze_csv(stream)
    assert_json_only(result)
    return result


def test_penguins_format(penguins_result: dict[str, Any]) -> None:
    assert penguins_result["encoding"] == "utf-8"
    assert penguins_result["delimiter"] == ","
    assert penguins_result["has_header"] is True
    assert penguins_result["row_count"] == 344
    assert penguins_result["skipped_rows"] == 0
    assert [item["name"] for item in penguins_result["columns"]] == list(penguins_columns())


def test_penguins_types(penguins_result: dict[str, Any]) -> None:
    types = {item["name"]: item["type"] for item in penguins_result["columns"]}
    assert types == {
        "species": "text",
        "island": "text",
        "bill_length_mm": "float",
        "bill_depth_mm": "float",
        "flipper_length_mm": "integer",
        "body_mass_g": "integer",
        "sex": "text",
        "year": "integer",
    }


def test_penguins_missing_counts(penguins_result: dict[str, Any]) -> None:
    assert column(penguins_result, "bill_length_mm")["missing"] == 2
    assert column(penguins_result, "sex")["missing"] == 11
    for name, values in penguins_columns().items():
        expected_missing = sum(1 for value in values if value == "NA")
        assert column(penguins_result, name)["missing"] == expected_missing, name
        assert column(penguins_result, name)["count"] == len(values) - expected_missing, name


def test_penguins_numeric_statistics(penguins_result: dict[str, Any]) -> None:
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"):
        numbers = [float(value) for value in penguins_columns()[name] if value != "NA"]
        summary = column(penguins_result, name)
        assert summary["mean"] == pytest.approx(statistics.fmean(numbers), abs=1e-9), name
        assert summary["std"] == pytest.approx(statistics.stdev(numbers), abs=1e-9), name
        assert summary["min"] == min(numbers), name
        assert summary["max"] == max(numbers), name
    assert type(column(penguins_result, "body_mass_g")["min"]) is int
    assert column(penguins_result, "year")["min"] == 2007
    assert column(penguins_result, "year")["max"] == 2009


def test_penguins_distinct_and_top_values(penguins_result: dict[str, Any]) -> None:
    for name, values in penguins_columns().items():
        present = [value for value in values if value != "NA"]
        counts = Counter(present)
        expected_top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5]
        summary = column(penguins_result, name)
        assert summary["distinct"] == len(counts), name
        assert summary["distinct_approximate"] is False, name
        assert [(top["value"], top["count"]) for top in summary["top_values"]] == expected_top, name
        assert summary["top_values_approximate"] is False, name
    assert column(penguins_result, "species")["top_values"][0] == {"value": "Adelie", "count": 152}


def test_penguins_histograms(penguins_result: dict[str, Any]) -> None:
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        numbers = [float(value) for value in penguins_columns()[name] if value != "NA"]
        bins = column(penguins_result, name)["histogram"]["bins"]
        assert len(bins) == 10, name
        assert bins[0]["lower"] == min(numbers), name
        assert bins[-1]["upper"] == max(numbers), name
        assert sum(bin_["count"] for bin_ in bins) == len(numbers), name
        assert [bin_["count"] for bin_ in bins] == count_in_bins(numbers, bins), name
        width = (max(numbers) - min(numbers)) / 10
        for bin_ in bins:
            assert bin_["upper"] - bin_["lower"] == pytest.approx(width, rel=0.05), name
    assert column(penguins_result, "species")["histogram"] is None


# Encodings


ENCODING_CASES = [
    ("utf-8", b""),
    ("utf-8-sig", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
]


@pytest.mark.parametrize(("label", "bom"), ENCODING_CASES)
def test_encoding_detected_with_text_intact(label: str, bom: bytes) -> None:
    codec = "utf-8" if label.startswith("utf-8") else label
    text = "città,größe,note\nZürich,1,naïve\nKraków,2,日本\nZürich,3,emoji 🐧\n"
    result = analyze_bytes(bom + text.encode(codec))
    assert result["encoding"] == label
    assert [item["name"] for item in result["columns"]] == ["città", "größe", "note"]
    assert column(result, "città")["top_values"][0] == {"value": "Zürich", "count": 2}
    assert column(result, "größe")["type"] == "integer"
    assert column(result, "größe")["max"] == 3
    assert {top["value"] for top in column(result, "note")["top_values"]} == {"naïve", "日本", "emoji 🐧"}


def test_latin1_fallback_for_invalid_utf8() -> None:
    result = analyze_bytes("name,price\ncafé,3\ncrème brûlée,7\n".encode("latin-1"))
    assert result["encoding"] == "latin-1"
    assert {top["value"] for top in column(result, "name")["top_values"]} == {"café", "crème brûlée"}
    assert column(result, "price")["mean"] == 5.0


def test_utf8_character_across_sample_and_chunks() -> None:
    # "é" is two bytes in UTF-8. Shifting the text by one byte puts one of them on each
    # side of the sample and chunk boundaries in one of the two runs.
    for padding in ("", "x"):
        rows = [["word", "number"]] + [[padding + "é" * 40, str(i)] for i in range(3000)]
        data = csv_bytes(rows)
        assert len(data) > SAMPLE_BYTES + CHUNK_BYTES
        result = analyze_bytes(data)
        assert result["encoding"] == "utf-8"
        assert result["row_count"] == 3000
        assert column(result, "word")["top_values"] == [{"value": padding + "é" * 40, "count": 3000}]


# Delimiters and quoting


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detected(delimiter: str) -> None:
    rows = [["city", "population", "note"]]
    rows += [[f"town {i}", str(1000 + i), "a, b; c\td | e"] for i in range(20)]
    result = analyze_bytes(csv_bytes(rows, delimiter=delimiter))
    assert result["delimiter"] == delimiter
    assert [item["name"] for item in result["columns"]] == ["city", "population", "note"]
    assert column(result, "population")["type"] == "integer"
    assert column(result, "population")["min"] == 1000
    assert column(result, "note")["top_values"] == [{"value": "a, b; c\td | e", "count": 20}]


def test_semicolon_with_decimal_commas() -> None:
    result = analyze_bytes(b"name;amount\nx;1,5\ny;2,5\nz;3,25\n")
    assert result["delimiter"] == ";"
    assert column(result, "amount")["type"] == "text"
    assert column(result, "amount")["distinct"] == 3


def test_quoted_fields_with_delimiters_quotes_and_newlines() -> None:
    data = (
        b"id,comment,score\r\n"
        b'1,"hello, world",5\r\n'
        b'2,"line one\r\nline two",6\r\n'
        b'3,"she said ""hi""",7\r\n'
        b'4,"a\nb, c\nd",8\r\n'
    )
    result = analyze_bytes(data)
    assert result["row_count"] == 4
    assert result["delimiter"] == ","
    comments = {top["value"] for top in column(result, "comment")["top_values"]}
    assert comments == {"hello, world", "line one\r\nline two", 'she said "hi"', "a\nb, c\nd"}
    assert column(result, "score")["type"] == "integer"
    assert column(result, "score")["mean"] == 6.5


def test_carriage_return_line_endings() -> None:
    result = analyze_bytes(b"a,b\r1,x\r2,y\r3,z\r")
    assert result["row_count"] == 3
    assert column(result, "a")["max"] == 3
    assert column(result, "b")["distinct"] == 3


def test_blank_lines_ignored() -> None:
    result = analyze_bytes(b"\n\na,b\n1,2\n\n3,4\n   \n")
    assert result["has_header"] is True
    assert result["row_count"] == 2
    assert result["skipped_rows"] == 0
    assert column(result, "a")["missing"] == 0


def test_multiline_fields_across_chunks_match_csv_module() -> None:
    generator = random.Random(7)
    rows = [["key", "text", "value"]]
    for i in range(12_000):
        text = "".join(generator.choice('ab ,"\n\r;') for _ in range(generator.randint(0, 30)))
        rows.append([f"k{i % 500}", text, str(generator.randint(-50, 50))])
    data = csv_bytes(rows, line_ending="\r\n")
    assert len(data) > SAMPLE_BYTES + 2 * CHUNK_BYTES
    result = analyze_bytes(data, distinct_limit=20_000)
    parsed = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    assert result["row_count"] == len(parsed) == 12_000
    texts = [row[1] for row in parsed if not is_missing(row[1])]
    assert column(result, "text")["count"] == len(texts)
    assert column(result, "text")["distinct"] == len({text.strip() for text in texts})
    assert column(result, "text")["distinct_approximate"] is False
    assert column(result, "key")["distinct"] == 500
    assert column(result, "value")["mean"] == pytest.approx(statistics.fmean(int(row[2]) for row in parsed), abs=1e-9)


# Header detection and column names


def test_header_over_numbers() -> None:
    result = analyze_bytes(b"x,y\n1,2.5\n3,4.5\n")
    assert result["has_header"] is True
    assert result["row_count"] == 2
    assert [item["name"] for item in result["columns"]] == ["x", "y"]


def test_no_header_when_first_row_is_numeric() -> None:
    result = analyze_bytes(b"1,2.5\n3,4.5\n5,6.5\n")
    assert result["has_header"] is False
    assert result["row_count"] == 3
    assert [item["name"] for item in result["columns"]] == ["column_1", "column_2"]
    assert column(result, "column_1")["min"] == 1


def test_header_over_text_columns() -> None:
    result = analyze_bytes(b"name,city\nBob,Paris\nAl,Rome\n")
    assert result["has_header"] is True
    assert result["row_count"] == 2


def test_no_header_when_first_row_recurs() -> None:
    result = analyze_bytes(b"Bob,Paris\nAl,Rome\nBob,Lyon\n")
    assert result["has_header"] is False
    assert result["row_count"] == 3
    assert column(result, "column_1")["top_values"][0] == {"value": "Bob", "count": 2}


def test_no_header_when_first_row_has_dates() -> None:
    result = analyze_bytes(b"2024-01-01,sunny\n2024-01-02,rain\n")
    assert result["has_header"] is False
    assert column(result, "column_1")["type"] == "date"


def test_blank_header_label_gets_position_name() -> None:
    # pandas writes an empty label over the index column.
    result = analyze_bytes(b",a,b\n0,1,2\n1,3,4\n")
    assert result["has_header"] is True
    assert [item["name"] for item in result["columns"]] == ["column_1", "a", "b"]


def test_header_only_file() -> None:
    result = analyze_bytes(b"alpha,beta\n")
    assert result["has_header"] is True
    assert result["row_count"] == 0
    assert column(result, "alpha")["count"] == 0
    assert column(result, "alpha")["type"] == "text"
    assert column(result, "alpha")["top_values"] == []


def test_single_column_file() -> None:
    result = analyze_bytes(b"score\n1\n2\nNA\n4\n")
    assert result["delimiter"] == ","
    assert result["has_header"] is True
    assert column(result, "score")["count"] == 3
    assert column(result, "score")["missing"] == 1
    assert column(result, "score")["mean"] == pytest.approx(7 / 3)


# Type inference and missing values


def test_missing_markers_any_case() -> None:
    markers = ["", "NA", "n/a", "N/A", "NaN", "nan", "null", "NULL", "None", "none", "-", "  ", " na "]
    data = "value,other\n" + "".join(f"{marker},x\n" for marker in markers) + "5,x\n"
    summary = column(analyze_bytes(data.encode()), "value")
    assert summary["missing"] == len(markers)
    assert summary["count"] == 1
    assert summary["type"] == "integer"
    assert summary["distinct"] == 1


@pytest.mark.parametrize(
    ("values", "expected_type"),
    [
        (["1", "-2", "+3", "007"], "integer"),
        (["0", "1", "1", "0"], "integer"),
        (["1", "2.5", "-3e2", ".5"], "float"),
        (["true", "False", "YES", "no"], "boolean"),
        (["2024-02-29", "1999-12-31"], "date"),
        (["2024-02-29T10:00:00", "2024-03-01T08:30:00.25+02:00", "2024-03-01T23:59Z"], "date"),
        (["2024-02-29", "2024-03-01T12:00"], "date"),
        (["2023-02-30"], "text"),
        (["1", "two"], "text"),
        (["1_000"], "text"),
        (["inf", "1"], "text"),
        (["1e999"], "text"),
        (["\uff11\uff12"], "text"),  # fullwidth digits, which float() accepts
        (["yes", "1"], "text"),
        (["2024-01-01 10:00"], "text"),
    ],
)
def test_type_inference(values: list[str], expected_type: str) -> None:
    data = "value,label\n" + "".join(f"{value},x\n" for value in values)
    assert column(analyze_bytes(data.encode()), "value")["type"] == expected_type


def test_integer_column_keeps_exact_extremes() -> None:
    big = 2**60 + 1
    summary = column(analyze_bytes(f"n,label\n{big},x\n-{big},y\n".encode()), "n")
    assert summary["type"] == "integer"
    assert summary["max"] == big
    assert summary["min"] == -big


def test_date_range_as_iso_strings() -> None:
    data = b"when,label\n2024-03-01,x\n2023-12-31,x\n2024-03-01T09:00:00+10:00,x\n"
    summary = column(analyze_bytes(data), "when")
    assert summary["type"] == "date"
    assert summary["min"] == "2023-12-31"
    # 09:00 at UTC+10 is 23:00 on the previous day in UTC, so the date-only value is later.
    assert summary["max"] == "2024-03-01"
    assert summary["mean"] is None
    assert summary["histogram"] is None


def test_boolean_column_statistics() -> None:
    summary = column(analyze_bytes(b"flag,n\ntrue,1\nTrue,2\nno,3\nNA,4\n"), "flag")
    assert summary["type"] == "boolean"
    assert summary["count"] == 3
    assert summary["missing"] == 1
    assert summary["min"] is None
    assert summary["histogram"] is None
    # Distinct values compare the text as written, so "true" and "True" differ.
    assert summary["distinct"] == 3


def test_statistics_near_float_limit_stay_json() -> None:
    summary = column(analyze_bytes(b"v,label\n1e308,x\n-1e308,y\n1.5e308,z\n"), "v")
    assert summary["type"] == "float"
    assert summary["max"] == 1.5e308
    # The squared deviations overflow, so the standard deviation is reported as missing.
    assert summary["std"] is None
    assert summary["mean"] == pytest.approx(1.5e308 / 3, rel=1e-9)
    assert sum(bin_["count"] for bin_ in summary["histogram"]["bins"]) == 3


# Distinct counts and frequent values


def test_distinct_exact_at_limit() -> None:
    rows = [["item", "n"]] + [[f"item-{i}", "1"] for i in range(500)] * 2
    summary = column(analyze_bytes(csv_bytes(rows), distinct_limit=500), "item")
    assert summary["distinct"] == 500
    assert summary["distinct_approximate"] is False
    assert summary["top_values"][0] == {"value": "item-0", "count": 2}


def test_distinct_approximate_above_limit() -> None:
    rows = [["item", "n"]] + [[f"item-{i}", "1"] for i in range(501)]
    summary = column(analyze_bytes(csv_bytes(rows), distinct_limit=500), "item")
    assert summary["distinct_approximate"] is True
    assert summary["top_values_approximate"] is True
    # The estimate is clamped to more than the limit and at most the number of values.
    assert summary["distinct"] == 501


@pytest.mark.parametrize("distinct_values", [20_000, 60_000])
def test_distinct_estimate_within_five_percent(distinct_values: int) -> None:
    rows = [["code", "n"]] + [[f"c{i * 7919 % 1_000_003}", str(i % 10)] for i in range(distinct_values)]
    result = analyze_bytes(csv_bytes(rows), distinct_limit=1000)
    code = column(result, "code")
    assert code["distinct_approximate"] is True
    assert abs(code["distinct"] - distinct_values) <= 0.05 * distinct_values
    assert column(result, "n")["distinct"] == 10
    assert column(result, "n")["distinct_approximate"] is False


def test_distinct_estimate_is_deterministic() -> None:
    data = csv_bytes([["code"]] + [[f"v{i}"] for i in range(30_000)])
    first = column(analyze_bytes(data, distinct_limit=100), "code")["distinct"]
    second = column(analyze_bytes(data, distinct_limit=100), "code")["distinct"]
    assert first == second


def test_wide_file_lowers_exact_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a budget of 1,000 exactly counted values over 4 columns, each column counts
    # at most 250 exactly.
    monkeypatch.setattr(analyze_module, "EXACT_VALUES_BUDGET", 1000)
    rows = [["a", "b", "c", "d"]] + [[f"v{i}", f"w{i % 250}", "x", "y"] for i in range(300)]
    result = analyze_bytes(csv_bytes(rows))
    assert column(result, "a")["distinct_approximate"] is True
    assert column(result, "a")["distinct"] == pytest.approx(300, rel=0.05)
    assert column(result, "b")["distinct_approximate"] is False
    assert column(result, "b")["distinct"] == 250


def test_frequent_value_found_in_approximate_mode() -> None:
    generator = random.Random(3)
    values = [f"u{i}" for i in range(40_000)] + ["hot"] * 12_000 + ["warm"] * 4_000
    generator.shuffle(values)
    summary = column(analyze_bytes(csv_bytes([["v"]] + [[value] for value in values]), distinct_limit=1000), "v")
    assert summary["top_values_approximate"] is True
    top = summary["top_values"]
    assert [item["value"] for item in top[:2]] == ["hot", "warm"]
    # Misra-Gries counts are lower bounds, off by at most n / (counters + 1) = 56,000 / 101.
    assert 12_000 - 56_000 / 101 <= top[0]["count"] <= 12_000
    assert 4_000 - 56_000 / 101 <= top[1]["count"] <= 4_000


def test_long_values_cut_in_top_values() -> None:
    long_value = "x" * 500
    summary = column(analyze_bytes(csv_bytes([["text"], [long_value], [long_value], ["x" * 499]])), "text")
    assert summary["distinct"] == 2
    assert summary["top_values"][0] == {"value": "x" * 64 + "\u2026", "count": 2}


def test_top_values_option() -> None:
    rows = [["letter"]] + [[letter] for letter in "aaaabbbccd"]
    summary = column(analyze_bytes(csv_bytes(rows), top_values=2), "letter")
    assert summary["top_values"] == [{"value": "a", "count": 4}, {"value": "b", "count": 3}]
    summary = column(analyze_bytes(csv_bytes(rows), top_values=0), "letter")
    assert summary["top_values"] == []


# Histograms


def test_histogram_counts_sum_to_count() -> None:
    generator = random.Random(11)
    numbers = [generator.gauss(-500, 300) for _ in range(20_000)] + [1e6]
    rows = [["x"]] + [[repr(number)] for number in numbers] + [["NA"]]
    summary = column(analyze_bytes(csv_bytes(rows), histogram_bins=25), "x")
    bins = summary["histogram"]["bins"]
    assert len(bins) == 25
    assert sum(bin_["count"] for bin_ in bins) == summary["count"] == len(numbers)
    assert [bin_["count"] for bin_ in bins] == count_in_bins(numbers, bins)
    assert all(bins[i]["upper"] == bins[i + 1]["lower"] for i in range(24))


def test_histogram_hundred_bins_near_equal_width() -> None:
    generator = random.Random(12)
    numbers = [generator.uniform(-3.0, 7.0) ** 3 for _ in range(5000)]
    rows = [["x"]] + [[repr(number)] for number in numbers]
    bins = column(analyze_bytes(csv_bytes(rows), histogram_bins=100), "x")["histogram"]["bins"]
    width = (max(numbers) - min(numbers)) / 100
    assert len(bins) == 100
    for bin_ in bins:
        assert bin_["upper"] - bin_["lower"] == pytest.approx(width, rel=1 / 16)
    assert [bin_["count"] for bin_ in bins] == count_in_bins(numbers, bins)


def test_histogram_single_value() -> None:
    summary = column(analyze_bytes(b"x\n4.5\n4.5\n4.5\n"), "x")
    assert summary["histogram"] == {"bins": [{"lower": 4.5, "upper": 4.5, "count": 3}]}
    assert summary["std"] == 0.0


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1, max_size=300),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=50),
)
def test_streaming_histogram_matches_direct_count(numbers: list[float], bin_count: int, batch_size: int) -> None:
    histogram = StreamingHistogram(resolution=1024)
    for start in range(0, len(numbers), batch_size):
        batch = numbers[start : start + batch_size]
        histogram.add_batch(batch, min(batch), max(batch))
    bins = histogram.bins(bin_count)
    assert sum(bin_["count"] for bin_ in bins) == len(numbers)
    assert [bin_["count"] for bin_ in bins] == count_in_bins(numbers, bins)
    assert bins[0]["lower"] == min(numbers)
    assert bins[-1]["upper"] == max(numbers)
    assert len(histogram.counts) <= 1024


def test_hyperloglog_accuracy() -> None:
    for cardinality in (100, 5_000, 100_000):
        sketch = HyperLogLog()
        sketch.add_keys(f"key-{i}" for i in range(cardinality))
        sketch.add_keys(f"key-{i}" for i in range(0, cardinality, 3))
        assert abs(sketch.estimate() - cardinality) <= 0.03 * cardinality, cardinality
    assert HyperLogLog().estimate() == 0.0


def test_frequent_items_error_bound() -> None:
    items = FrequentItems(capacity=10)
    stream = ["a"] * 50 + ["b"] * 30 + [f"noise{i}" for i in range(200)]
    random.Random(5).shuffle(stream)
    for start in range(0, len(stream), 17):
        items.add_counts(Counter(stream[start : start + 17]))
    assert len(items.counts) <= 10
    assert items.error <= len(stream) / 11
    assert 50 - items.error <= items.counts["a"] <= 50
    assert 30 - items.error <= items.counts["b"] <= 30


# Round trip with generated tables


_CELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters=',;"\n\r\t|'),
    max_size=12,
)
_CELL = st.one_of(_CELL_TEXT, st.sampled_from(["NA", "", "null", "-"]), st.integers(-999, 999).map(str))


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_CELL, _CELL, _CELL), min_size=1, max_size=40))
def test_round_trip_counts_match_csv_module(rows: list[tuple[str, str, str]]) -> None:
    labels = ["alpha", "beta", "gamma"]
    rows = [row for row in rows if not any(value.strip() in labels for value in row)]
    data = csv_bytes([labels] + [list(row) for row in rows], line_ending="\r\n")
    result = analyze_bytes(data)
    assert result["delimiter"] == ","
    assert result["has_header"] is True
    assert result["row_count"] == len(rows)
    for position, label in enumerate(labels):
        values = [row[position] for row in rows]
        present = [value.strip() for value in values if not is_missing(value)]
        summary = column(result, label)
        assert summary["missing"] == len(values) - len(present)
        assert summary["count"] == len(present)
        assert summary["distinct"] == len(set(present))


# Progress and cancellation


def numbered_rows(count: int) -> bytes:
    return csv_bytes([["n", "square"]] + [[str(i), str(i * i)] for i in range(count)])


def test_progress_monotonic_and_final(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyze_module, "PROGRESS_INTERVAL_SECONDS", 0.0)
    data = numbered_rows(25_000)
    calls: list[tuple[int, int, int | None]] = []
    result = analyze_csv(io.BytesIO(data), total_bytes=len(data), on_progress=lambda *args: calls.append(args))
    assert len(calls) >= 12
    rows_read = [rows for rows, _, _ in calls]
    bytes_read = [size for _, size, _ in calls]
    assert rows_read == sorted(rows_read)
    assert bytes_read == sorted(bytes_read)
    assert all(total == len(data) for _, _, total in calls)
    assert calls[-1] == (25_000, len(data), len(data))
    assert result["row_count"] == 25_000


def test_progress_throttled_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake clock advances 0.125 s per reading, a binary fraction so the differences
    # are exact. The reporter reads it once at the start and once per batch, so with a
    # 0.2 s interval every second batch is reported.
    ticks = iter(range(1000))
    monkeypatch.setattr(analyze_module, "monotonic", lambda: next(ticks) / 8)
    data = numbered_rows(10 * analyze_module.BATCH_ROWS)
    calls: list[tuple[int, int, int | None]] = []
    analyze_csv(io.BytesIO(data), on_progress=lambda *args: calls.append(args))
    batch = analyze_module.BATCH_ROWS
    assert [rows for rows, _, _ in calls] == [2 * batch, 4 * batch, 6 * batch, 8 * batch, 10 * batch, 10 * batch]
    assert calls[-1] == (10 * batch, len(data), None)


def test_progress_once_for_small_file() -> None:
    calls: list[tuple[int, int, int | None]] = []
    data = b"a,b\n1,2\n3,4\n"
    analyze_csv(io.BytesIO(data), on_progress=lambda *args: calls.append(args))
    assert calls == [(2, len(data), None)]


def test_cancellation_stops_reading() -> None:
    data = csv_bytes([["n", "padding"]] + [[str(i), "p" * 60] for i in range(40_000)])
    stream = ReadCountingStream(data)
    checks = 0

    def is_cancelled() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 3

    with pytest.raises(AnalysisCancelled, match="after 4,000 rows"):
        analyze_csv(io.BufferedReader(stream), is_cancelled=is_cancelled)
    assert checks == 3
    assert stream.position < len(data) / 4


def test_cancellation_before_reading() -> None:
    stream = ReadCountingStream(b"a,b\n1,2\n")
    with pytest.raises(AnalysisCancelled):
        analyze_csv(stream, is_cancelled=lambda: True)
    assert stream.position == 0
    assert not issubclass(AnalysisCancelled, CsvAnalysisError)


# Errors


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\n\t", codecs.BOM_UTF8, codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")],
)
def test_error_empty(data: bytes) -> None:
    error = expect_error(data, "empty")
    assert "Choose a CSV file" in str(error)


def test_error_binary_nul_bytes() -> None:
    error = expect_error(b"a,b\n1,\x002\n", "binary")
    assert "NUL" in str(error)


def test_error_binary_random_bytes() -> None:
    noise = random.Random(1).randbytes(8192).replace(b"\x00", b"\x01")
    error = expect_error(noise, "binary")
    assert "does not look like a CSV file" in str(error)


def test_error_binary_control_characters() -> None:
    expect_error(b"a,b\n" + b"\x01\x02\x03,\x04\n" * 50, "binary")


def test_error_binary_nul_after_sample() -> None:
    data = numbered_rows(20_000)
    assert len(data) > SAMPLE_BYTES + CHUNK_BYTES
    data += b"5,\x00\n"
    error = expect_error(data, "binary")
    assert error.line == 20_002
    assert "Line 20002 contains a NUL character" in str(error)


def test_error_undecodable_utf8_after_sample() -> None:
    head = numbered_rows(30_000)
    assert len(head) > SAMPLE_BYTES + CHUNK_BYTES
    data = head + b"caf\xe9,1\n"
    error = expect_error(data, "undecodable")
    assert error.line == 30_002
    assert f"byte offset {len(head) + 3:,} (line 30002)" in str(error)
    assert "E9" in str(error)
    assert "Save the file as UTF-8" in str(error)


def test_error_undecodable_with_utf8_bom() -> None:
    error = expect_error(codecs.BOM_UTF8 + b"a,b\n\xff,1\n", "undecodable")
    assert error.line == 2
    assert "byte offset 7 (line 2)" in str(error)


def test_error_undecodable_truncated_utf16() -> None:
    data = codecs.BOM_UTF16_LE + "a,b\n1,2\n".encode("utf-16-le") + b"\x31"
    error = expect_error(data, "undecodable")
    assert "not valid utf-16-le" in str(error)
    assert f"byte offset {len(data) - 1}" in str(error)


def test_error_ragged_names_line_and_counts() -> None:
    data = b'a,b,c,d\n1,2,3,4\n5,"multi\nline",7,8\n9,10,11,12,13\n'
    error = expect_error(data, "ragged")
    assert str(error) == "Line 5 has 5 fields but the header has 4. Fix the row or choose 'skip ragged rows'."
    assert error.line == 5


def test_error_ragged_without_header() -> None:
    error = expect_error(b"1,2\n3,4\n5\n", "ragged")
    assert str(error) == "Line 3 has 1 field but the first row has 2. Fix the row or choose 'skip ragged rows'."


def test_ragged_rows_skipped_on_request() -> None:
    result = analyze_bytes(b"a,b\n1,2\n3\n4,5,6\n7,8\n", ragged="skip")
    assert result["row_count"] == 2
    assert result["skipped_rows"] == 2
    assert column(result, "a")["mean"] == 4.0
    assert column(result, "b")["max"] == 8


def test_error_too_large_from_total_bytes() -> None:
    stream = ReadCountingStream(b"a,b\n1,2\n")
    with pytest.raises(CsvAnalysisError) as caught:
        analyze_csv(stream, total_bytes=2_000_000, max_bytes=1_000_000)
    assert caught.value.code == "too_large"
    assert str(caught.value) == (
        "The file (2,000,000 bytes) is larger than the limit of 1,000,000 bytes. "
        "Upload a smaller file or split it into parts."
    )
    assert stream.position == 0


def test_error_too_large_while_streaming() -> None:
    data = numbered_rows(50_000)
    error = expect_error(data, "too_large", max_bytes=len(data) - 1)
    assert f"limit of {len(data) - 1:,} bytes" in str(error)
    assert analyze_bytes(data, max_bytes=len(data))["row_count"] == 50_000


def test_error_too_large_line() -> None:
    data = b"a,b\n" + b"x" * (MAX_LINE_CHARS + CHUNK_BYTES) + b",1\n"
    error = expect_error(data, "too_large")
    assert error.line == 2
    assert "Line 2 is longer than 1,048,576 characters" in str(error)


def test_error_too_large_field() -> None:
    error = expect_error(b'a,b\n1,"' + b"x\n" * 70_000 + b'"\n', "too_large")
    assert error.line == 2
    assert "longer than 131,072 characters" in str(error)


def test_error_too_many_columns() -> None:
    header = ",".join(f"c{i}" for i in range(1001)).encode()
    error = expect_error(header + b"\n" + b"1," * 1000 + b"1\n", "too_large")
    assert "1,001 fields, more than the 1,000 columns" in str(error)


def test_error_malformed_carriage_return() -> None:
    error = expect_error(b"a,b\n1,2\n3,x\ry\n", "malformed")
    assert error.line == 3
    assert "carriage return" in str(error)


def test_error_is_value_error_and_pickles() -> None:
    error = expect_error(b"a,b\n1,2,3\n", "ragged")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.line) == ("ragged", str(error), 2)


@pytest.mark.parametrize(
    "options",
    [
        {"ragged": "ignore"},
        {"distinct_limit": 0},
        {"top_values": -1},
        {"top_values": 101},
        {"histogram_bins": 0},
        {"max_bytes": -1},
    ],
)
def test_invalid_options_raise_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as caught:
        analyze_csv(io.BytesIO(b"a\n1\n"), **options)
    assert not isinstance(caught.value, CsvAnalysisError)


def test_text_stream_rejected() -> None:
    with pytest.raises(TypeError, match="'rb' mode"):
        analyze_csv(io.StringIO("a,b\n1,2\n"))  # type: ignore[arg-type]


# Memory


def measure_peaks(total_bytes: int, split_at: int, **options: Any) -> tuple[dict[str, Any], int, int]:
    """Analyze a generated stream and return the result and the traced peak before and after ``split_at`` bytes."""
    peaks: list[int] = []

    def on_progress(rows_read: int, bytes_read: int, total: int | None) -> None:
        if not peaks and bytes_read >= split_at:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        result = analyze_csv(io.BufferedReader(GeneratedCsvStream(total_bytes)), on_progress=on_progress, **options)
        peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert len(peaks) == 2, "the progress callback never reached split_at"
    return result, peaks[0], peaks[1]


def test_memory_does_not_grow_with_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyze_module, "PROGRESS_INTERVAL_SECONDS", 0.0)
    result, early_peak, late_peak = measure_peaks(6_000_000, split_at=2_000_000, distinct_limit=1000)
    assert result["row_count"] > 25_000
    assert column(result, "id")["distinct_approximate"] is True
    # The second two thirds of the rows must not need more memory than the first third.
    assert late_peak <= early_peak + 512 * 1024, (early_peak, late_peak)
    assert early_peak < 20 * 1024 * 1024


@pytest.mark.soak
def test_memory_bounded_for_50_mb_stream() -> None:
    result, early_peak, late_peak = measure_peaks(50_000_000, split_at=0)
    peak = max(early_peak, late_peak)
    assert peak < 20 * 1024 * 1024, f"peak traced memory was {peak / 2**20:.1f} MiB"
    rows = result["row_count"]
    assert rows > 200_000
    assert column(result, "id")["distinct"] == pytest.approx(rows, rel=0.05)
    assert column(result, "amount")["distinct"] == pytest.approx(100_000, rel=0.05)
    assert column(result, "category")["distinct"] == 17
    assert column(result, "comment")["distinct"] == 5000
    assert column(result, "day")["type"] == "date"
    assert column(result, "id")["max"] == rows - 1
    assert sum(bin_["count"] for bin_ in column(result, "amount")["histogram"]["bins"]) == rows


def test_generated_stream_is_lazy() -> None:
    stream = GeneratedCsvStream(10_000_000)
    first = io.BufferedReader(stream, buffer_size=64).read(100)
    assert first.startswith(b"id,amount,category,day,comment\n0,0.00,cat0,2024-01-01,")
    assert len(stream.pending) < 300_000


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class ShortReadStream:
    """A stream whose read() returns at most 7 bytes, like a slow socket or pipe."""

    def __init__(self, data: bytes) -> None:
        self.chunks = chunks_of(data, 7)

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


def test_short_reads_give_same_result() -> None:
    data = penguins_bytes()
    assert analyze_csv(ShortReadStream(data)) == analyze_csv(io.BytesIO(data))
