"""Pure parts of the demo: the Leibniz series, the generated sample and the charts."""

from __future__ import annotations

import math

import pytest

from demo.charts import histogram_svg, pi_chart_svg
from demo.pi import approximate_pi_points, checkpoints, error_digits, leibniz_terms
from demo.samples import GeneratedSensorCsv


def test_leibniz_terms_split_anywhere() -> None:
    whole = leibniz_terms(0, 1001)
    assert leibniz_terms(0, 400) + leibniz_terms(400, 1001) == pytest.approx(whole, abs=1e-15)
    assert leibniz_terms(0, 1) == 1.0
    assert leibniz_terms(1, 2) == pytest.approx(-1 / 3)


def test_approximation_converges_to_pi() -> None:
    value, points = approximate_pi_points(100_000, 20)
    assert abs(value - math.pi) < 1e-4
    assert points[0] == [1, 4.0]
    assert points[-1][0] == 100_000
    assert points[-1][1] == value
    assert error_digits(value) == 4


def test_checkpoints_log_spaced_and_bounded() -> None:
    points = checkpoints(1_000_000, 7)
    assert points == [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]
    assert checkpoints(1, 60) == [1]
    with pytest.raises(ValueError, match="iterations must be 1 or more"):
        checkpoints(0, 10)


def test_generated_sample_size_exact() -> None:
    for rows in (1, 16, 17, 97, 98, 5000):
        generated = GeneratedSensorCsv(rows)
        data = generated.read()
        assert len(data) == generated.total_bytes, rows
        assert data.count(b"\n") == rows + 1, rows
        assert generated.read(10) == b""


def test_generated_sample_reads_in_chunks() -> None:
    whole = GeneratedSensorCsv(3000).read()
    chunked = GeneratedSensorCsv(3000)
    parts = []
    while chunk := chunked.read(4096):
        assert len(chunk) <= 4096
        parts.append(chunk)
    assert b"".join(parts) == whole


def test_histogram_escapes_label() -> None:
    svg = histogram_svg([1, 3, 2], 'Histogram of <b>"x"</b>')
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert svg.count("<rect") == 3
    assert histogram_svg([], "empty") == ""


def test_pi_chart_has_line_and_reference() -> None:
    _, points = approximate_pi_points(1000, 10)
    svg = pi_chart_svg(points)
    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 1
    assert "chart-reference" in svg
    assert pi_chart_svg([]) == ""
